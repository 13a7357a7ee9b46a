"""Therapy history (issue #15, part 1): a patient on natalizumab since 2022 is entered with the
real first dose and past infusions. Monitoring follows the real anchors, what fell due before
the clinic went live never alerts, and PML exposure counts from the real dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from clinic.accounts.models import User
from clinic.audit.models import AccessEvent
from clinic.permissions import CapabilityDenied
from patients.models import Patient
from tests.treatments.conftest import TODAY
from treatments.alerts.services import AlertSpec, raise_alerts
from treatments.catalogue import services as catalogue_services
from treatments.models import (
    OPEN_STATUSES,
    AdministrationKind,
    Alert,
    AlertKind,
    AlertStatus,
    ClinicSettings,
    DmtPlan,
    ItemStatus,
    MonitoringItem,
    PlanStatus,
    PmlProfile,
)
from treatments.monitoring import sweeps
from treatments.plans import history
from treatments.plans import services as plan_services

pytestmark = pytest.mark.django_db

GO_LIVE = date(2026, 1, 1)
SINCE = date(2022, 3, 1)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def every_four_weeks(first: date, until: date) -> list[date]:
    days, day = [], first
    while day <= until:
        days.append(day)
        day += timedelta(weeks=4)
    return days


@pytest.fixture
def live_clinic(eu_clinic: ClinicSettings) -> ClinicSettings:
    # The catalogue the migration loaded, which a transactional test before this one may have
    # flushed (the form lists the drugs from it).
    catalogue_services.load_catalogue()
    eu_clinic.go_live_on = GO_LIVE
    eu_clinic.save()
    return eu_clinic


@pytest.fixture
def on_natalizumab_since_2022(
    live_clinic: ClinicSettings,
    patient_a: Patient,
    neurologist: User,
    today: date,
    django_capture_on_commit_callbacks: Any,
) -> DmtPlan:
    with django_capture_on_commit_callbacks(execute=True):
        outcome = history.record_past_therapy(
            patient=patient_a,
            drug_key="natalizumab_iv",
            started_on=SINCE,
            doses=every_four_weeks(SINCE, date(2026, 6, 1))[1:],
            by=neurologist,
        )
    return outcome.plan


def test_a_past_plan_starts_on_its_real_first_dose_with_every_past_infusion(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    plan = on_natalizumab_since_2022
    assert (plan.status, plan.started_on, plan.planned_on) == (PlanStatus.ACTIVE, SINCE, SINCE)
    assert plan.recorded_as_history
    infusions = list(plan.administrations.values_list("given_on", flat=True))
    assert infusions == every_four_weeks(SINCE, date(2026, 6, 1))
    assert set(plan.administrations.values_list("kind", flat=True)) == {AdministrationKind.DOSE}


def test_items_due_before_go_live_are_marked_and_none_is_open(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    items = list(on_natalizumab_since_2022.items.all())
    before = [i for i in items if i.due_on < GO_LIVE]
    assert before, "four years of history owe checks before go-live"
    assert {i.status for i in before} == {ItemStatus.BEFORE_GO_LIVE}
    # Nothing after go-live is hidden.
    assert all(i.status in OPEN_STATUSES for i in items if i.due_on >= GO_LIVE)


def test_the_first_live_items_follow_the_true_history_not_the_day_of_entry(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    jcv = list(
        on_natalizumab_since_2022.items.filter(rule_key="jcv_antibody", status__in=OPEN_STATUSES)
        .order_by("due_on")
        .values_list("due_on", flat=True)
    )
    # JCV every 6 months from the first dose on 1 March 2022: the first one after go-live is
    # 1 March 2026, not six months after the day the history was typed in.
    assert jcv[:2] == [date(2026, 3, 1), date(2026, 9, 1)]
    reconsent = on_natalizumab_since_2022.items.get(rule_key="pml_reconsent_24m")
    assert (reconsent.due_on, reconsent.status) == (date(2024, 3, 1), ItemStatus.BEFORE_GO_LIVE)


def test_before_go_live_items_never_alert_even_when_the_sweeps_run_twice(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    for _ in range(2):
        sweeps.sweep_overdue(at=NOW)
        sweeps.sweep_due_soon(at=NOW)
    flagged = MonitoringItem.objects.filter(
        pk__in=[
            int(pk)
            for pk in Alert.objects.filter(
                kind__in=[AlertKind.OVERDUE_MONITORING, AlertKind.DUE_SOON]
            ).values_list("raised_by_id", flat=True)
        ]
    )
    assert flagged.exists(), "the JCV due 1 March 2026, after go-live, is really overdue"
    assert not flagged.filter(due_on__lt=GO_LIVE).exists()
    assert not MonitoringItem.objects.filter(
        status=ItemStatus.BEFORE_GO_LIVE, overdue_since__isnull=False
    ).exists()


def test_pml_exposure_counts_from_the_real_first_dose(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    profile = PmlProfile.objects.get(plan=on_natalizumab_since_2022)
    # 1 March 2022 to 15 June 2026: 51 whole months, past the 24-month step of §4.2.
    assert profile.exposure_months == 51


def test_pml_exposure_adds_an_earlier_natalizumab_course_stopped_years_ago(
    live_clinic: ClinicSettings,
    patient_a: Patient,
    neurologist: User,
    today: date,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        history.record_past_therapy(
            patient=patient_a,
            drug_key="natalizumab_iv",
            started_on=date(2015, 1, 10),
            stopped_on=date(2017, 1, 10),
            stop_reason="pregnancy_planning",
            by=neurologist,
        )
        current = history.record_past_therapy(
            patient=patient_a, drug_key="natalizumab_iv", started_on=SINCE, by=neurologist
        ).plan
    assert PmlProfile.objects.get(plan=current).exposure_months == 24 + 51
    assert current.switched_from is not None
    assert current.switched_from.stopped_on == date(2017, 1, 10)


def test_a_stopped_past_plan_links_the_switch_so_the_washout_counts_from_real_dates(
    live_clinic: ClinicSettings, patient_a: Patient, neurologist: User, today: date
) -> None:
    fingolimod = history.record_past_therapy(
        patient=patient_a,
        drug_key="fingolimod",
        started_on=date(2019, 5, 1),
        stopped_on=date(2022, 1, 20),
        stop_reason="lack_of_efficacy",
        by=neurologist,
    ).plan
    outcome = history.record_past_therapy(
        patient=patient_a, drug_key="natalizumab_iv", started_on=SINCE, by=neurologist
    )
    assert outcome.plan.switched_from == fingolimod
    # 40 days from the fingolimod stop to the natalizumab start: within the catalogue's washout.
    assert outcome.warnings == []
    assert fingolimod.items.filter(status__in=OPEN_STATUSES, survives_stop=False).count() == 0


def test_doses_after_the_history_are_recorded_as_usual(
    on_natalizumab_since_2022: DmtPlan, neurologist: User
) -> None:
    plan_services.record_administration(
        plan=on_natalizumab_since_2022,
        kind=AdministrationKind.DOSE,
        given_on=TODAY,
        by=neurologist,
    )
    assert on_natalizumab_since_2022.administrations.filter(given_on=TODAY).exists()


def test_the_entry_is_audited(on_natalizumab_since_2022: DmtPlan) -> None:
    event = AccessEvent.objects.get(
        object_type="treatments.dmtplan", object_id=str(on_natalizumab_since_2022.pk)
    )
    assert event.detail.startswith("past therapy recorded: natalizumab_iv from 2022-03-01")


Record = Callable[..., history.PastTherapy]


@pytest.fixture
def record(
    live_clinic: ClinicSettings, patient_a: Patient, neurologist: User, today: date
) -> Record:
    def _record(**kwargs: Any) -> history.PastTherapy:
        return history.record_past_therapy(
            patient=patient_a, **{"drug_key": "natalizumab_iv", "by": neurologist, **kwargs}
        )

    return _record


def problems(error: pytest.ExceptionInfo[history.HistoryError]) -> set[tuple[str, str]]:
    return {(p.field, p.message) for p in error.value.problems}


def test_every_refusal_names_the_field_and_the_reason(record: Record, patient_a: Patient) -> None:
    born = patient_a.date_of_birth
    with pytest.raises(history.HistoryError) as error:
        record(
            started_on=born - timedelta(days=1),
            doses=[born - timedelta(days=2), TODAY + timedelta(days=1)],
            stopped_on=TODAY + timedelta(days=3),
            stop_reason="",
        )
    fields = {field for field, _ in problems(error)}
    assert fields == {"started_on", "stopped_on", "stop_reason", "doses"}
    messages = " ".join(message for _, message in problems(error))
    assert f"before the patient's birth ({born:%d %b %Y})" in messages
    assert "The stop date cannot be in the future." in messages
    assert "Choose why the drug was stopped." in messages
    assert DmtPlan.objects.filter(patient=patient_a).count() == 0


def test_a_start_before_1900_and_one_in_the_future_are_refused(record: Record) -> None:
    with pytest.raises(history.HistoryError, match="before 1900"):
        record(started_on=date(1899, 12, 31))
    with pytest.raises(history.HistoryError, match="cannot be in the future"):
        record(started_on=TODAY + timedelta(days=1))


def test_doses_must_lie_within_the_plan_span(record: Record) -> None:
    with pytest.raises(history.HistoryError) as error:
        record(
            started_on=SINCE,
            stopped_on=date(2023, 1, 1),
            stop_reason="patient_choice",
            doses=[date(2022, 2, 1), date(2023, 2, 1), date(2022, 4, 1), date(2022, 4, 1)],
        )
    assert problems(error) == {
        ("doses", "01 Feb 2022 is before the first dose (01 Mar 2022)."),
        ("doses", "01 Feb 2023 is after the stop (01 Jan 2023)."),
        ("doses", "01 Apr 2022 is listed twice."),
    }


def test_a_daily_tablet_takes_no_dose_list_and_infusions_take_no_courses(
    record: Record,
) -> None:
    with pytest.raises(history.HistoryError, match="Fingolimod is not given as separate doses"):
        record(drug_key="fingolimod", started_on=SINCE, doses=[date(2022, 4, 1)])
    with pytest.raises(history.HistoryError) as error:
        record(started_on=SINCE, courses=[date(2023, 3, 1)])
    assert {field for field, _ in problems(error)} == {"courses"}


def test_a_past_plan_may_not_overlap_another(record: Record) -> None:
    record(started_on=SINCE)
    with pytest.raises(history.HistoryError) as error:
        record(
            drug_key="fingolimod",
            started_on=date(2021, 1, 1),
            stopped_on=date(2022, 6, 1),
            stop_reason="adverse_event",
        )
    assert problems(error) == {
        (
            "started_on",
            "These dates overlap the Natalizumab (intravenous) plan from 01 Mar 2022 to now.",
        )
    }


def test_a_stop_reason_of_other_needs_details(record: Record) -> None:
    with pytest.raises(history.HistoryError) as error:
        record(started_on=SINCE, stopped_on=date(2023, 1, 1), stop_reason="other")
    assert problems(error) == {("stop_note", "Describe the reason for stopping.")}


def test_only_a_neurologist_may_record_past_therapy(
    live_clinic: ClinicSettings, patient_a: Patient, nurse: User, admin_user: User
) -> None:
    for person in (nurse, admin_user):
        with pytest.raises(CapabilityDenied, match="Only neurologists may record past therapy"):
            history.record_past_therapy(
                patient=patient_a, drug_key="natalizumab_iv", started_on=SINCE, by=person
            )


# --- the go-live date as a setting ---------------------------------------------------------------


def test_moving_the_go_live_date_later_closes_the_alerts_of_what_fell_before_it(
    on_natalizumab_since_2022: DmtPlan, admin_user: User
) -> None:
    sweeps.sweep_overdue(at=NOW)
    march_jcv = on_natalizumab_since_2022.items.get(
        rule_key="jcv_antibody", due_on=date(2026, 3, 1)
    )
    alert = Alert.objects.get(condition_key=f"overdue:item:{march_jcv.pk}")
    assert alert.status == AlertStatus.OPEN

    catalogue_services.update_clinic_settings(
        label_region="EU", review_interval_months=6, go_live_on=date(2026, 4, 1), by=admin_user
    )

    march_jcv.refresh_from_db()
    alert.refresh_from_db()
    assert (march_jcv.status, march_jcv.overdue_since) == (ItemStatus.BEFORE_GO_LIVE, None)
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolution_note == "Closed automatically: due before the clinic's go-live date."
    # The sweep agrees, and does not raise it again.
    assert sweeps.sweep_overdue(at=NOW).created == 0

    catalogue_services.update_clinic_settings(
        label_region="EU", review_interval_months=6, go_live_on=None, by=admin_user
    )
    march_jcv.refresh_from_db()
    assert march_jcv.status == ItemStatus.SCHEDULED


def test_the_overdue_sweep_closes_an_alert_left_on_an_item_before_go_live(
    on_natalizumab_since_2022: DmtPlan,
) -> None:
    # An alert that somehow outlived its item's marking (raised by hand here) is closed by the
    # next sweep: the sweep is level-triggered, not trusting the writer that marked the item.
    item = on_natalizumab_since_2022.items.filter(status=ItemStatus.BEFORE_GO_LIVE).first()
    assert item is not None
    raise_alerts(
        [
            AlertSpec(
                patient_id=item.patient_id,
                kind=AlertKind.OVERDUE_MONITORING,
                grade="warning",
                condition_key=f"overdue:item:{item.pk}",
                title="stale",
                detail="",
                action="",
                source="",
                raised_by_type="treatments.monitoringitem",
                raised_by_id=str(item.pk),
            )
        ]
    )
    assert sweeps.sweep_overdue(at=NOW).resolved >= 1
    assert Alert.objects.get(condition_key=f"overdue:item:{item.pk}").status == (
        AlertStatus.RESOLVED
    )


def test_a_go_live_date_far_ahead_or_before_1900_is_refused(
    live_clinic: ClinicSettings, admin_user: User, today: date
) -> None:
    from treatments.errors import TreatmentError

    for bad in (date(1899, 1, 1), TODAY + timedelta(days=400)):
        with pytest.raises(TreatmentError) as error:
            catalogue_services.update_clinic_settings(
                label_region="EU", review_interval_months=6, go_live_on=bad, by=admin_user
            )
        assert error.value.field == "go_live_on"
    assert ClinicSettings.load().go_live_on == GO_LIVE


# --- the page ------------------------------------------------------------------------------------


def test_the_neurologist_records_past_therapy_on_the_page(
    live_clinic: ClinicSettings,
    patient_a: Patient,
    neurologist: User,
    signed_in: Callable[[User], Any],
    today: date,
) -> None:
    client = signed_in(neurologist)
    url = f"/treatments/patients/{patient_a.external_id}/plans/history/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Record past therapy" in page.content.decode()

    response = client.post(
        url,
        {
            "drug_key": "natalizumab_iv",
            "started_on": "2022-03-01",
            "doses": "2022-03-29\n2022-04-26, 2022-05-24",
        },
    )
    plan = DmtPlan.objects.get(patient=patient_a)
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    assert plan.administrations.count() == 4


def test_a_bad_date_in_the_list_is_shown_next_to_the_field(
    live_clinic: ClinicSettings,
    patient_a: Patient,
    neurologist: User,
    signed_in: Callable[[User], Any],
    today: date,
) -> None:
    client = signed_in(neurologist)
    url = f"/treatments/patients/{patient_a.external_id}/plans/history/"
    response = client.post(
        url, {"drug_key": "natalizumab_iv", "started_on": "2022-03-01", "doses": "29/03/2022"}
    )
    assert response.status_code == 422
    assert "Not a date: &#x27;29/03/2022&#x27;. Write dates as YYYY-MM-DD." in (
        response.content.decode()
    )
    response = client.post(url, {"drug_key": "natalizumab_iv", "started_on": "2031-03-01"})
    assert response.status_code == 422
    assert "The first dose cannot be in the future" in response.content.decode()
    assert not DmtPlan.objects.filter(patient=patient_a).exists()


def test_a_cladribine_history_beyond_the_catalogues_two_courses_is_refused(
    record: Record,
) -> None:
    # Cladribine: two yearly courses in all (EU-SmPC §4.2), counted over the patient's plans.
    with pytest.raises(history.HistoryError) as error:
        record(
            drug_key="cladribine",
            started_on=date(2021, 3, 1),
            courses=[date(2022, 3, 1), date(2024, 3, 4)],
        )
    [(field, message)] = problems(error)
    assert field == "courses"
    assert "a third course is refused" in message
    assert "3 courses of" in message


def test_a_second_cladribine_history_counts_the_courses_of_the_first(record: Record) -> None:
    record(
        drug_key="cladribine",
        started_on=date(2019, 3, 4),
        courses=[date(2020, 3, 2)],
        stopped_on=date(2020, 4, 1),
        stop_reason="patient_choice",
    )
    with pytest.raises(history.HistoryError) as error:
        record(drug_key="cladribine", started_on=date(2023, 3, 6))
    assert {field for field, _ in problems(error)} == {"courses"}
