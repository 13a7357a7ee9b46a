"""Gates stop the action, in Chromium: a nurse cannot record a third cladribine course; the
neurologist sees why, overrides with a reason, and the override is on the plan's history, the
patient's timeline and the audit trail. A mitoxantrone dose that would pass the lifetime cap of
140 mg/m² is refused, and a dose within it is recorded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.audit.models import AccessEvent
from tests.treatments.conftest import record_values
from treatments.catalogue.services import load_catalogue
from treatments.dosing import DoseEntry
from treatments.models import ClinicSettings, DmtPlan, GateOverride
from treatments.plans import services as plan_services
from treatments.protocols import add_months

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "Pre-course checks on paper before Myelin (test history)"
REASON = "Relapse on cladribine; MDT agreed a third course"


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()


def _eu_clinic() -> None:
    # A transactional test empties the tables the catalogue migration filled: load it again,
    # since these histories start before the first catalogue version took effect.
    load_catalogue()
    ClinicSettings.objects.update_or_create(id=1, defaults={"label_region": "EU"})


@pytest.fixture
def two_cladribine_courses(patient_a: Any, neurologist: Any) -> DmtPlan:
    _eu_clinic()
    today = timezone.localdate()
    course_1, course_2 = add_months(today, -24), add_months(today, -12)
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="cladribine", by=neurologist, planned_on=course_1
    )
    plan = plan_services.start_dmt_plan(
        plan=plan, started_on=course_1, override_reason=HISTORY, by=neurologist
    )
    plan_services.record_administration(
        plan=plan, kind="course", given_on=course_2, override_reason=HISTORY, by=neurologist
    )
    return plan


def test_a_nurse_cannot_record_a_third_cladribine_course_and_a_neurologist_overrides(
    two_cladribine_courses: DmtPlan,
    patient_a: Any,
    nurse: Any,
    neurologist: Any,
    admin_user: Any,
    sign_in_as: Any,
    page: Any,
    live_server: Any,
) -> None:
    plan = two_cladribine_courses
    today = timezone.localdate()
    # The count the issue describes: lymphocytes 0.4 ×10⁹/L before the third course.
    record_values(patient_a, "cbc", today, nurse, ("lymphocytes", "0.4", "1.0", "4.0"))
    url = f"{live_server.url}{plan.get_absolute_url()}"

    # The nurse sees that the course is gated, tries anyway, and is refused.
    sign_in_as(nurse)
    page.goto(url)
    gates = page.locator("#gates")
    expect(gates).to_contain_text("Gates not met for the next treatment course today")
    expect(gates).to_contain_text("Two yearly courses in all")
    expect(gates).to_contain_text("only a neurologist can override a gate")
    dose_form = page.locator("#dose")
    expect(dose_form.get_by_label("Reason to override the unmet gates")).to_have_count(0)
    dose_form.get_by_label("Kind").select_option("course")
    dose_form.get_by_label("Given on").fill(today.isoformat())
    dose_form.get_by_role("button", name="Record").click()
    refused = page.locator("#dose .form-errors")
    expect(refused).to_contain_text("Refused: this treatment course does not meet 1 gate")
    expect(refused).to_contain_text("Only a neurologist can override a gate")
    expect(refused).to_contain_text("found: 2 courses already given")
    expect(refused).to_contain_text("Source: EU-SmPC §4.2")
    assert plan.administrations.count() == 2
    sign_out(page)

    # The neurologist sees why and overrides with a reason.
    sign_in_as(neurologist)
    page.goto(url)
    expect(page.locator("#gates")).to_contain_text("2 courses already given")
    dose_form = page.locator("#dose")
    dose_form.get_by_label("Kind").select_option("course")
    dose_form.get_by_label("Given on").fill(today.isoformat())
    dose_form.get_by_label("Reason to override the unmet gates").fill(REASON)
    dose_form.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded; monitoring updated.")).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("Gate overridden by Ada Reyes")
    expect(history).to_contain_text("Two yearly courses in all")
    expect(history).to_contain_text(f"Reason: {REASON}")

    # On the patient's timeline.
    page.goto(f"{live_server.url}{patient_a.get_absolute_url()}")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Cladribine tablets: gate overridden (treatment course)")
    expect(timeline).to_contain_text(REASON)
    sign_out(page)

    # In the audit trail, as the clinic admin reads it.
    override = GateOverride.objects.get(plan=plan, gate_key="course_limit")
    assert override.overridden_by == neurologist
    sign_in_as(admin_user)
    page.goto(f"{live_server.url}/audit/?mrn={patient_a.mrn}")
    row = page.locator("tr", has_text=f"treatments.gateoverride {override.pk}")
    expect(row).to_contain_text("gate overridden (treatment course): Two yearly courses in all")
    expect(row).to_contain_text(neurologist.username)
    assert AccessEvent.objects.filter(
        object_type="treatments.gateoverride", object_id=str(override.pk), user=neurologist
    ).exists()


@pytest.fixture
def mitoxantrone_132(patient_a: Any, neurologist: Any, nurse: Any) -> DmtPlan:
    """12 mg/m² at the start and six doses of 20 mg/m² (132 mg/m²), then every pre-dose check
    done two days ago: only the lifetime cap can stop the next dose."""
    _eu_clinic()
    today = timezone.localdate()
    started = add_months(today, -13)
    record_values(patient_a, "echo_lvef", started, nurse, ("lvef", "62", None, None))
    plan = plan_services.plan_dmt(
        patient=patient_a, drug_key="mitoxantrone", by=neurologist, planned_on=started
    )
    plan = plan_services.start_dmt_plan(
        plan=plan,
        started_on=started,
        override_reason=HISTORY,
        dose=DoseEntry(mg_m2=Decimal("12"), bsa_m2=Decimal("1.8")),
        by=neurologist,
    )
    for month in range(1, 7):
        plan_services.record_administration(
            plan=plan,
            kind="dose",
            given_on=add_months(started, month),
            override_reason=HISTORY,
            dose=DoseEntry(mg_m2=Decimal("20"), bsa_m2=Decimal("1.8")),
            by=neurologist,
        )
    checked = today - timedelta(days=2)
    record_values(patient_a, "echo_lvef", checked, nurse, ("lvef", "60", None, None))
    record_values(patient_a, "cbc", checked, nurse, ("neutrophils", "3.2", "1.8", "7.5"))
    record_values(patient_a, "lft", checked, nurse, ("alt", "21", "0", "40"))
    record_values(patient_a, "pregnancy_test", checked, nurse, qualitative="negative")
    return plan


def test_a_mitoxantrone_dose_that_would_pass_the_lifetime_cap_is_refused(
    mitoxantrone_132: DmtPlan, nurse: Any, sign_in_as: Any, page: Any, live_server: Any
) -> None:
    plan = mitoxantrone_132
    today = timezone.localdate()
    sign_in_as(nurse)
    page.goto(f"{live_server.url}{plan.get_absolute_url()}")
    expect(page.locator("#cumulative")).to_contain_text("132 of 140 mg/m² (8 mg/m² left)")
    expect(page.locator("#gates")).to_have_count(0)  # every pre-dose check is done

    dose_form = page.locator("#dose")
    dose_form.get_by_label("Given on").fill(today.isoformat())
    dose_form.get_by_label("Dose (mg/m²)").fill("12")
    dose_form.get_by_label("Height (cm)").fill("170")
    dose_form.get_by_label("Weight (kg)").fill("70")
    dose_form.get_by_role("button", name="Record").click()

    refused = page.locator("#dose .form-errors")
    expect(refused).to_contain_text("Refused: this dose / infusion does not meet 1 gate")
    expect(refused).to_contain_text("Lifetime cumulative dose at most 140 mg/m²")
    expect(refused).to_contain_text("132 mg/m² already given + 12 mg/m² now = 144 mg/m²")
    expect(refused).to_contain_text("Source: US-PI §2/§5")
    expect(page.locator("#dose").get_by_label("Dose (mg/m²)")).to_have_value("12")
    assert plan.administrations.count() == 7

    # Within the cap, the same dose form records it with its BSA by Mosteller.
    page.locator("#dose").get_by_label("Dose (mg/m²)").fill("8")
    page.locator("#dose").get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded; monitoring updated.")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("8 mg/m² × 1.82 m² = 14.6 mg")
    expect(page.locator("#cumulative")).to_contain_text("140 of 140 mg/m² (0 mg/m² left)")
    assert plan.administrations.count() == 8
