"""The infusion day: a checklist per infusion from the catalogue, the dose gates of the plan, and
recording the infusion only when nothing is missing (or a neurologist overrides, audited)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.audit.models import AccessEvent, Category
from tests.factories import patient_timeline
from tests.treatments.conftest import TODAY
from treatments.errors import TreatmentError
from treatments.infusions import services as infusions
from treatments.infusions.services import ChecklistEntry, ChecklistIncomplete
from treatments.models import (
    Alert,
    AlertGrade,
    DmtAdministration,
    GateOverride,
    InfusionState,
    InfusionVisit,
)
from treatments.protocols.infusion_day import infusion_day_for

pytestmark = pytest.mark.django_db

VITALS = {
    "systolic": Decimal("124"),
    "diastolic": Decimal("78"),
    "pulse": Decimal("70"),
    "temperature": Decimal("36.6"),
}
COMPLETE = ChecklistEntry(
    answers={"new_neuro": "no", "infection": "no", "pregnancy": "no"},
    premedication={"methylprednisolone": "given", "antihistamine": "given", "antipyretic": "given"},
    vitals_before=VITALS,
    vitals_after=VITALS,
    observed_minutes=60,
    reaction_grade=0,
)


def fill(visit: InfusionVisit, by: Any, **changes: Any) -> InfusionVisit:
    entry = ChecklistEntry(**{**COMPLETE.__dict__, **changes})
    return infusions.save_checklist(visit=visit, entry=entry, by=by)


def test_the_checklist_comes_from_the_drugs_catalogue_entry():
    ocrelizumab = infusion_day_for("ocrelizumab_iv")
    alemtuzumab = infusion_day_for("alemtuzumab")

    assert ocrelizumab is not None
    assert [m.key for m in ocrelizumab.premedications if m.required] == [
        "methylprednisolone",
        "antihistamine",
    ]
    assert ocrelizumab.observation.minutes == 60
    assert "US-PI" in ocrelizumab.observation.source
    assert alemtuzumab is not None
    assert alemtuzumab.observation.minutes == 120
    # Methylprednisolone 1 g on the first three days of a course only.
    [steroid] = [m for m in alemtuzumab.premedications if m.key == "methylprednisolone"]
    assert steroid.required_on(3)
    assert not steroid.required_on(4)
    assert infusion_day_for("natalizumab_iv") is not None
    assert infusion_day_for("mitoxantrone") is not None
    # Not infusions: tablets and injections.
    assert infusion_day_for("teriflunomide") is None
    assert infusion_day_for("ocrelizumab_sc") is None


def test_a_complete_checklist_records_the_infusion_on_the_plan(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse)

    assert infusions.missing_items(visit) == []
    given = infusions.record_infusion(visit=visit, by=nurse)

    visit.refresh_from_db()
    assert visit.state == InfusionState.RECORDED
    assert visit.administration == given
    assert (given.kind, given.given_on) == ("dose", TODAY)
    assert AccessEvent.objects.filter(
        category=Category.INFUSION, detail="infusion recorded", patient=visit.patient
    ).exists()


def test_each_blank_item_is_named(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(
        visit,
        nurse,
        answers={"new_neuro": "no", "infection": "no"},
        vitals_after={**VITALS, "pulse": None},
        observed_minutes=None,
    )

    texts = [gap.text for gap in infusions.missing_items(visit)]

    assert texts == [
        "Not answered: Could the patient be pregnant (or is a pregnancy test positive)?",
        "Not recorded: pulse after",
        "Not recorded: the observation after the infusion",
    ]


def test_a_nurse_cannot_record_an_incomplete_checklist(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse, premedication={"methylprednisolone": "not_given"})

    with pytest.raises(ChecklistIncomplete) as refused:
        infusions.record_infusion(visit=visit, by=nurse, override_reason="I think it is fine")

    assert refused.value.field == "override_reason"
    assert "Only a neurologist" in refused.value.message
    assert any("Not given: Methylprednisolone" in line for line in refused.value.details)
    assert not DmtAdministration.objects.filter(given_on=TODAY).exists()


def test_a_yes_to_a_pre_infusion_question_stops_the_infusion(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse, answers={"new_neuro": "no", "infection": "yes", "pregnancy": "no"})

    [gap] = infusions.missing_items(visit)

    assert gap.field == "q_infection"
    assert "Delay the infusion" in gap.text


def test_too_short_an_observation_is_missing_with_the_catalogues_minimum(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse, observed_minutes=30)

    [gap] = infusions.missing_items(visit)

    assert gap.field == "observed_minutes"
    assert "at least 60 min" in gap.text


def test_a_neurologist_overrides_with_a_reason_and_it_is_kept_and_audited(
    on_ocrelizumab, nurse, neurologist
):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse, observed_minutes=20)
    reason = "Patient had to leave; observed 20 minutes, no reaction in 8 infusions"

    with pytest.raises(TreatmentError):
        infusions.record_infusion(visit=visit, by=neurologist, override_reason="short")
    infusions.record_infusion(visit=visit, by=neurologist, override_reason=reason)

    visit.refresh_from_db()
    assert visit.override_reason == reason
    assert len(visit.override_missing) == 1
    assert visit.override_missing[0].startswith("Observed 20 min")
    assert AccessEvent.objects.filter(
        category=Category.INFUSION, detail="infusion recorded with checklist override"
    ).exists()


def test_the_dose_gates_of_the_plan_are_part_of_the_checklist(
    today, eu_clinic, start_plan, patient_a, nurse, neurologist
):
    # Ocrelizumab started 30 days ago: the next infusion is far earlier than the label's minimum.
    plan = start_plan(patient_a, "ocrelizumab_iv", TODAY - timedelta(days=30))
    visit = infusions.open_visit(plan=plan, infusion_on=TODAY, by=nurse)
    fill(visit, nurse)

    gaps = infusions.missing_items(visit)

    assert [gap.field for gap in gaps] == ["gates"]
    with pytest.raises(ChecklistIncomplete):
        infusions.record_infusion(visit=visit, by=nurse)
    infusions.record_infusion(
        visit=visit, by=neurologist, override_reason="Relapse; MDT agreed an early re-dose"
    )
    # The gate's override is kept as every gate override is.
    assert GateOverride.objects.filter(plan=plan, administration__given_on=TODAY).count() == 1


def test_an_alemtuzumab_day_4_needs_no_methylprednisolone_and_day_1_starts_a_course(
    today, eu_clinic, start_plan, patient_a, nurse
):
    plan = start_plan(patient_a, "alemtuzumab", TODAY - timedelta(days=380))
    day_one = infusions.open_visit(plan=plan, infusion_on=TODAY, course_day=1, by=nurse)
    fill(
        day_one,
        nurse,
        premedication={
            "methylprednisolone": "given",
            "antihistamine": "given",
            "antipyretic": "not_given",
        },
        observed_minutes=120,
    )
    assert infusions.infusion_kind(plan, 1) == "course"
    assert infusions.infusion_kind(plan, 4) == "dose"
    later = infusions.open_visit(
        plan=plan, infusion_on=TODAY + timedelta(days=3), course_day=4, by=nurse
    )
    fill(
        later,
        nurse,
        premedication={
            "methylprednisolone": "not_given",
            "antihistamine": "not_given",
            "antipyretic": "not_given",
        },
        observed_minutes=120,
    )

    assert not [g for g in infusions.missing_items(later) if g.field.startswith("pm_")]
    # Day 1's checklist is complete (the course's own gates are the plan's business).
    assert [g.field for g in infusions.missing_items(day_one) if g.field != "gates"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vitals_before": {**VITALS, "systolic": Decimal("400")}}, "before_systolic"),
        ({"vitals_after": {**VITALS, "temperature": Decimal("12")}}, "after_temperature"),
        ({"reaction_grade": 2, "reaction_note": ""}, "reaction_note"),
        ({"reaction_grade": 9}, "reaction_grade"),
        ({"answers": {"new_neuro": "maybe"}}, "q_new_neuro"),
    ],
)
def test_implausible_values_are_refused_at_their_field(on_ocrelizumab, nurse, changes, field):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)

    with pytest.raises(TreatmentError) as refused:
        fill(visit, nurse, **changes)

    assert refused.value.field == field


def test_a_visit_is_for_today_or_later_on_an_infusion_drug_once_a_day(
    on_ocrelizumab, nurse, start_plan
):
    with pytest.raises(TreatmentError) as past:
        infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY - timedelta(days=1), by=nurse)
    infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    with pytest.raises(TreatmentError) as twice:
        infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)

    assert past.value.field == twice.value.field == "infusion_on"


def test_a_severe_reaction_raises_a_critical_alert_once(on_ocrelizumab, nurse):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse, reaction_grade=3, reaction_note="Hypotension and wheeze; infusion stopped")

    infusions.record_infusion(visit=visit, by=nurse)

    alert = Alert.objects.get(condition_key=f"infusion_reaction:visit:{visit.pk}")
    assert alert.grade == AlertGrade.CRITICAL
    assert alert.ctcae_grade == 3


def test_recorded_infusions_are_on_the_timeline(on_ocrelizumab, nurse, patient_a, signed_in):
    visit = infusions.open_visit(plan=on_ocrelizumab, infusion_on=TODAY, by=nurse)
    fill(visit, nurse)
    infusions.record_infusion(visit=visit, by=nurse)

    html = patient_timeline(signed_in(nurse), patient_a)

    assert "Ocrelizumab" in html
    assert "Checklist complete" in html
