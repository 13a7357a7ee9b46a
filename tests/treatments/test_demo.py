"""The demo clinic's treatments: a plausible, working mix dated relative to today."""

from __future__ import annotations

from datetime import date

import pytest

from clinic import demo
from patients import demo as patients_demo
from treatments import demo as treatments_demo
from treatments.models import DmtPlan, MonitoringItem, Result

pytestmark = pytest.mark.django_db


def test_the_demo_clinic_has_plans_items_and_results_in_every_state(today: date) -> None:
    users = demo.seed_staff()
    patients_demo.seed(users)

    treatments_demo.seed(users)

    drugs = set(DmtPlan.objects.values_list("drug_key", flat=True))
    assert {
        "ocrelizumab_iv",
        "natalizumab_iv",
        "teriflunomide",
        "alemtuzumab",
        "cladribine",
    } <= drugs
    assert DmtPlan.objects.filter(switched_from__isnull=False).exists()
    assert MonitoringItem.objects.overdue(on=today).exists()
    assert MonitoringItem.objects.due_within(on=today).exists()
    assert MonitoringItem.objects.booked().exists()
    assert MonitoringItem.objects.filter(status="done_in_window").exists()
    abnormal_alt = Result.objects.filter(is_abnormal=True, values__analyte="alt")
    assert abnormal_alt.exists()
    assert Result.objects.filter(investigation="jcv_antibody", qualitative="positive").exists()
