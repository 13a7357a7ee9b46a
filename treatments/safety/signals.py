"""What safety tells the sub-domains that build on it, without importing them (plans read
safety's gates, so safety never imports plans)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that changed a natalizumab plan's PML surveillance (the category
# sets the MRI the worklist schedules); arguments `plan` and `on`. Its receiver,
# treatments.plans.schedule, re-synchronises the plan's monitoring in the same transaction.
pml_surveillance_changed = Signal()
