"""The sample lab messages (samples/*.hl7) imported into the demo clinic, dated as if the
laboratory sent them yesterday about samples taken the day before."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from clinic.accounts.models import User
from treatments.labimport import services
from treatments.models import Channel

SAMPLES = Path(__file__).resolve().parent / "samples"
# The days the sample files are written on (collection, report); see samples/README.md.
SAMPLE_DAYS = ("20261124", "20261125")


def sample_texts(today: date) -> list[str]:
    collected, reported = today - timedelta(days=2), today - timedelta(days=1)
    texts = []
    for path in sorted(SAMPLES.glob("*.hl7")):
        text = path.read_bytes().decode("utf-8")
        for day, moved in zip(SAMPLE_DAYS, (collected, reported), strict=True):
            text = text.replace(day, f"{moved:%Y%m%d}")
        texts.append(text)
    return texts


def seed(*, today: date, by: User | None = None) -> list[services.Summary]:
    return [
        services.receive(text=text, channel=Channel.FILE, by=by) for text in sample_texts(today)
    ]
