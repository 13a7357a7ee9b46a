"""Going live (issue #15) in a real browser: a neurologist enters a new patient who has been on
natalizumab since 2022, with the past infusions. The PML panel counts the real exposure, and
the nurse's worklist and alerts show nothing that fell due before the clinic went live, only
what the true history puts after it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from treatments.catalogue import services as catalogue_services
from treatments.models import Alert, ClinicSettings, DmtPlan, ItemStatus, MonitoringItem
from treatments.monitoring import sweeps
from treatments.protocols import add_months

pytestmark = pytest.mark.django_db(transaction=True)

SINCE = date(2022, 3, 1)


def whole_months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def test_a_neurologist_enters_a_patient_on_natalizumab_since_2022(
    neurologist: Any, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    # A transactional test before this one may have flushed the catalogue the migration loaded.
    catalogue_services.load_catalogue()
    today = timezone.localdate()
    # JCV is due every 6 months from the first dose. The clinic went live just before the
    # latest one whose window has closed: that one is really overdue, all before it is history.
    jcv_due = [add_months(SINCE, 6 * n) for n in range(1, 40)]
    live_jcv = max(d for d in jcv_due if d + timedelta(days=30) < today)
    go_live = live_jcv - timedelta(days=1)
    clinic = ClinicSettings.load()
    clinic.label_region, clinic.go_live_on = "EU", go_live
    clinic.save()
    infusions = []
    day = SINCE + timedelta(weeks=4)
    while day <= today - timedelta(days=7):
        infusions.append(day)
        day += timedelta(weeks=4)

    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/patients/new/")
    page.get_by_label("MRN").fill("HIST2022")
    page.get_by_label("Given name").fill("Nadia")
    page.get_by_label("Family name").fill("Hale")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Nurse").select_option(label=nurse.get_full_name())
    page.get_by_role("button", name="Create patient").click()
    expect(page.get_by_text("Patient record created.")).to_be_visible()
    patient = Patient.objects.get(mrn="HIST2022")

    page.goto(f"{live_server.url}/treatments/patients/{patient.external_id}/")
    page.get_by_role("link", name="Record past therapy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record past therapy")
    expect(page.get_by_text(f"go-live date ({go_live:%d %b %Y})")).to_be_visible()
    page.get_by_label("Drug").select_option("natalizumab_iv")
    page.get_by_label("First dose given on").fill(SINCE.isoformat())
    page.get_by_label("Later doses or infusions").fill("\n".join(d.isoformat() for d in infusions))
    page.get_by_role("button", name="Record past therapy").click()

    expect(page.get_by_text("Past therapy recorded: Natalizumab")).to_be_visible()
    expect(page.get_by_text("past therapy, entered afterwards")).to_be_visible()
    expect(page.get_by_text("Before go-live").first).to_be_visible()
    plan = DmtPlan.objects.get(patient=patient)
    assert plan.started_on == SINCE
    assert plan.administrations.count() == 1 + len(infusions)

    # The safety panel on the patient page counts natalizumab exposure from March 2022.
    page.goto(f"{live_server.url}/patients/{patient.external_id}/")
    months = whole_months(SINCE, today)
    expect(page.locator("#safety-panel")).to_contain_text(
        f"Exposure: {months} months on natalizumab"
    )

    # The sweeps run as beat would; the nurse opens her worklist.
    sweeps.sweep_overdue()
    sweeps.sweep_due_soon()
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(nurse)
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring worklist")
    page.get_by_role("link", name="Overdue").click()
    live = MonitoringItem.objects.get(plan=plan, rule_key="jcv_antibody", due_on=live_jcv)
    expect(page.locator(f"#item-{live.pk}")).to_be_visible()
    history = MonitoringItem.objects.filter(plan=plan, status=ItemStatus.BEFORE_GO_LIVE)
    assert history.count() > 10
    for item in history:
        expect(page.locator(f"#item-{item.pk}")).to_have_count(0)

    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_text(f"Anti-JCV antibody with index overdue: due {live_jcv:%d %b %Y}"))
    flagged = Alert.objects.filter(raised_by_type="treatments.monitoringitem").values_list(
        "raised_by_id", flat=True
    )
    assert not MonitoringItem.objects.filter(
        pk__in=[int(pk) for pk in flagged], due_on__lt=go_live
    ).exists()
