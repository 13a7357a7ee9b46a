"""Going live (issue #15) in a real browser: a neurologist enters a new patient who has been on
natalizumab since 2022, with the past infusions. The PML panel counts the real exposure, and
the nurse's worklist and alerts show nothing that fell due before the clinic went live, only
what the true history puts after it. Then the neurologist marks a wrong EDSS entered in error,
and the chart and the confirmed disability progression change with it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patients.models import Patient
from patients.records import services as records
from tests.patients.conftest import STEP_SCORES
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

    # Nadia's EDSS: 2.0, then 3.0 confirmed months later; the last 3.0 was typed for the wrong
    # patient by the nurse, and it is what confirms the progression.
    wrong_on = today - timedelta(days=150)
    for days_ago, step, by in ((400, "2.0", neurologist), (300, "3.0", neurologist)):
        records.record_edss(
            patient=patient,
            assessed_on=today - timedelta(days=days_ago),
            scores=STEP_SCORES[step],
            by=by,
        )
    records.record_edss(patient=patient, assessed_on=wrong_on, scores=STEP_SCORES["3.0"], by=nurse)
    page.get_by_role("button", name="Sign out").click()
    sign_in_as(neurologist)
    page.goto(f"{live_server.url}/patients/{patient.external_id}/")
    header = page.locator("#patient-header")
    expect(header).to_contain_text("Confirmed")
    expect(page.locator("#edss-chart svg circle")).to_have_count(3)

    row = page.locator("#edss-section tbody tr", has_text=wrong_on.strftime("%d %b %Y"))
    row.get_by_role("link", name="Entered in error").click()
    page.get_by_label("Reason for the correction").fill("Recorded on the wrong patient")
    page.get_by_role("button", name="Mark entered in error").click()

    expect(page.locator("#messages")).to_contain_text("EDSS assessment marked entered in error")
    expect(header).to_contain_text("No confirmed progression")
    expect(page.locator("#edss-chart svg circle")).to_have_count(2)
    struck = page.locator("#edss-section tr.corrected")
    expect(struck).to_contain_text("Recorded on the wrong patient")
