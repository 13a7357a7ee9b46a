"""The MLLP listener over a real socket: each message answered with an ACK or a NAK, stored
before the answer, a repeat recognised. The listener runs in its own thread and connection, as
`manage.py mllp_listener` does, so these tests commit for real."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from patients.models import Patient
from tests.labimport.messages import LFT, lft_panel, mllp, obr, obx, oru
from treatments.labimport import listener
from treatments.models import Channel, InboundMessage, MessageState, Result

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mllp_port() -> Iterator[int]:
    """A listener on a free port of the loopback interface, stopped after the test."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    def listening(bound: int) -> None:
        port.append(bound)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        task = loop.create_task(listener.serve("127.0.0.1", 0, ready=listening))
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the listener did not start"
    yield port[0]
    for task in asyncio.all_tasks(loop):
        loop.call_soon_threadsafe(task.cancel)
    thread.join(10)
    loop.close()


def _exchange(port: int, *messages: str) -> list[str]:
    """Send MLLP blocks on one connection; the answers, unframed."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        for message in messages:
            sock.sendall(mllp(message).encode())
            data = b""
            while not data.endswith(b"\x1c\r"):
                chunk = sock.recv(4096)
                assert chunk, "the listener closed the connection without answering"
                data += chunk
            assert data.startswith(b"\x0b")
            answers.append(data[1:-2].decode())
    return answers


def _msa(ack: str) -> list[str]:
    return next(s for s in ack.split("\r") if s.startswith("MSA")).split("|")


def test_a_result_is_stored_before_the_ack_and_a_repeat_gets_the_same_answer(
    patient_a: Patient, mllp_port: int
) -> None:
    message = oru(*lft_panel("30"), born=patient_a.date_of_birth, control_id="LAB-1")

    first, repeat = _exchange(mllp_port, message, message)

    assert _msa(first)[:3] == ["MSA", "AA", "LAB-1"]
    stored = InboundMessage.objects.get(control_id="LAB-1")
    assert stored.channel == Channel.MLLP
    assert stored.state == MessageState.IMPORTED
    assert Result.objects.get(patient=patient_a).recorded_by.username == "lab-interface"
    assert _msa(repeat)[:4] == ["MSA", "AA", "LAB-1", "Already received (imported)."]
    assert InboundMessage.objects.count() == 1


def test_bad_input_is_held_and_answered_with_a_nak_naming_the_problem(
    patient_a: Patient, mllp_port: int
) -> None:
    bad_value = oru(
        obr(1, "F1", LFT),
        obx(1, "1742-6^ALT^LN", "pending", "U/L", "7-56", value_type="ST"),
        born=patient_a.date_of_birth,
        control_id="LAB-2",
    )
    no_control_id = oru(*lft_panel(), born=patient_a.date_of_birth, control_id="")

    answers = _exchange(mllp_port, bad_value, no_control_id, "Hello, this is not HL7")

    assert [_msa(a)[1] for a in answers] == ["AE", "AE", "AE"]
    assert _msa(answers[0])[3].startswith("Held for review: ALT (OBX 1 of order 1) has the")
    assert "no control id (MSH-10)" in _msa(answers[1])[3]
    assert "does not start with an MSH segment" in _msa(answers[2])[3]
    # Nothing lost: all three are stored and held; no partial result.
    assert InboundMessage.objects.filter(state=MessageState.QUEUED).count() == 3
    assert not Result.objects.exists()


def test_an_unknown_patient_is_accepted_and_held_so_the_labs_queue_goes_on(
    db: Any, mllp_port: int
) -> None:
    [answer] = _exchange(mllp_port, oru(*lft_panel(), mrn="NOBODY01", control_id="LAB-3"))

    assert _msa(answer)[1] == "AA"
    assert "Held for review: No patient in Myelin has the MRN" in _msa(answer)[3]
    assert InboundMessage.objects.get(control_id="LAB-3").state == MessageState.QUEUED
