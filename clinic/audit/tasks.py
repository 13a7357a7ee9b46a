from __future__ import annotations

from celery import shared_task

from clinic.audit import checkpoints


@shared_task(name="clinic.audit.write_checkpoint")
def write_checkpoint() -> int:
    """Beat sends this every MYELIN_AUDIT_CHECKPOINT_MINUTES: sign the audit chain's head into the
    checkpoint file. Returns the number of rows checkpointed."""
    return checkpoints.write_checkpoint().count
