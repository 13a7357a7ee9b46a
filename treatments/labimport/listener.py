"""The MLLP listener: the hospital's interface engine sends ORU^R01 messages over TCP, each in an
MLLP block, and gets an ACK or NAK back for each (python-hl7's asyncio MLLP streams).

Messages are worked one at a time on one thread that owns the database connection, in the
order they arrive, so a correction never overtakes the result it corrects. The answer is sent
only once the message is stored: an AA means it is in Myelin (imported, or held for review
with the reason), an AE/AR names what the sender must fix. No patient data is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections
from hl7.mllp import InvalidBlockError, start_hl7_server

from treatments.labimport import hl7v2, services
from treatments.labimport.forms import decode
from treatments.models import Channel

logger = logging.getLogger("myelin.labimport")

# Larger than any lab report; a longer block is refused rather than buffered without end.
MAX_BLOCK_BYTES = 4 * 1024 * 1024


def handle_block(raw: bytes) -> str:
    """Store and import one message; its acknowledgement (runs on the database thread)."""
    text = decode(raw)
    close_old_connections()
    try:
        outcome = services.receive_hl7(raw=text, channel=Channel.MLLP, by=None)
    except Exception as error:  # one message's failure must not stop the listener
        logger.error("A lab message could not be stored (%s); answered AE", type(error).__name__)
        return hl7v2.acknowledgement(text, "AE", "Could not be stored; please send it again.")
    message = outcome.message
    logger.info(
        "Lab message %s from %s: %s, answered %s",
        message.pk,
        message.sending_facility or "an unknown sender",
        "duplicate" if outcome.duplicate else message.state,
        outcome.ack_code,
    )
    return hl7v2.acknowledgement(text, outcome.ack_code, outcome.ack_text)


async def serve(host: str, port: int, *, ready: Callable[[int], None] | None = None) -> None:
    """Listen until cancelled; `ready` is told the port once the socket is open."""
    loop = asyncio.get_running_loop()
    database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mllp-db")

    async def connection(reader, writer) -> None:  # type: ignore[no-untyped-def]
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break  # the sender closed the connection
                except InvalidBlockError:
                    logger.warning("An MLLP block without its start character; connection closed")
                    break
                except ValueError:
                    logger.warning(
                        "An MLLP block larger than %s bytes; connection closed", MAX_BLOCK_BYTES
                    )
                    break
                ack = await loop.run_in_executor(database, handle_block, block)
                writer.writeblock(ack.encode("utf-8"))
                await writer.drain()
        finally:
            writer.close()

    server = await start_hl7_server(connection, host, port, limit=MAX_BLOCK_BYTES)
    bound = server.sockets[0].getsockname()[1]
    logger.info("Listening for HL7 v2 lab results (MLLP) on %s:%s", host, bound)
    if ready is not None:
        ready(bound)
    try:
        async with server:
            await server.serve_forever()
    finally:
        await loop.run_in_executor(database, connections.close_all)
        database.shutdown(wait=True)
