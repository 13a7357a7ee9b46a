"""A patient who had mitoxantrone before the clinic used Myelin (issue #15, parts 1 and 4): the
past doses are entered with their mg/m² and BSA, on the history form or in the go-live CSV, so
the label's lifetime limit of 140 mg/m² (§3.17) counts the real total and the next real dose is
judged against it instead of being refused as "total unknown"."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from tests.treatments.conftest import TODAY, record_values
from treatments.catalogue import services as catalogue_services
from treatments.dosing import DoseEntry
from treatments.golive import services as golive
from treatments.golive.parsing import DMT_COLUMNS, DMT_FILE, PATIENT_COLUMNS
from treatments.models import ClinicSettings, DmtAdministration, DmtPlan
from treatments.plans import gates, history, label_gates
from treatments.plans import services as plan_services
from treatments.plans.past_doses import PastDose, parse_past_doses
from treatments.protocols import add_months

pytestmark = pytest.mark.django_db

FIRST = date(2023, 7, 3)
BSA = Decimal("1.80")
FIRST_DOSE = DoseEntry(mg_m2=Decimal("12"), bsa_m2=BSA)


def quarterly(count: int, first: date = FIRST) -> list[date]:
    """Mitoxantrone every 3 months: the first dose and the `count - 1` after it."""
    return [add_months(first, 3 * k) for k in range(count)]


def later_doses(count: int, mg_m2: str = "12", first: date = FIRST) -> list[PastDose]:
    """The doses after the first, each with its mg/m² (on the first dose's BSA)."""
    return [PastDose(day, Decimal(mg_m2)) for day in quarterly(count, first)[1:]]


@pytest.fixture
def live_clinic(eu_clinic: ClinicSettings, today: date) -> ClinicSettings:
    # The catalogue the migration loaded, which a transactional test may have flushed.
    catalogue_services.load_catalogue()
    eu_clinic.go_live_on = date(2026, 1, 1)
    eu_clinic.save()
    return eu_clinic


Record = Callable[..., history.PastTherapy]


@pytest.fixture
def record(live_clinic: ClinicSettings, patient_a: Patient, neurologist: User) -> Record:
    def _record(**kwargs: Any) -> history.PastTherapy:
        return history.record_past_therapy(
            patient=patient_a,
            **{"drug_key": "mitoxantrone", "started_on": FIRST, "by": neurologist, **kwargs},
        )

    return _record


def problems(error: pytest.ExceptionInfo[history.HistoryError]) -> set[tuple[str, str]]:
    return {(p.field, p.message) for p in error.value.problems}


# --- the history service ---------------------------------------------------------------------


def test_each_past_dose_is_stored_with_its_mg_m2_and_bsa(record: Record) -> None:
    plan = record(
        first_dose=FIRST_DOSE,
        doses=[
            PastDose(date(2023, 10, 3), Decimal("12")),
            PastDose(date(2024, 1, 3), Decimal("10"), Decimal("1.85")),
        ],
    ).plan

    stored = list(plan.administrations.values_list("given_on", "dose_mg_m2", "bsa_m2"))
    # A line without its own BSA was given on the first dose's.
    assert stored == [
        (FIRST, Decimal("12.00"), BSA),
        (date(2023, 10, 3), Decimal("12.00"), BSA),
        (date(2024, 1, 3), Decimal("10.00"), Decimal("1.85")),
    ]
    cumulative = label_gates.cumulative_dose(plan)
    assert cumulative is not None
    assert (cumulative.given_mg_m2, cumulative.without_dose) == (Decimal("34"), 0)
    assert cumulative.remaining_mg_m2 == Decimal("106")


def _before_a_dose(patient: Patient, by: User) -> None:
    """The checks the label asks before every mitoxantrone dose, done three days ago, and the
    echo before the first dose in 2023 that the LVEF is compared with."""
    record_values(patient, "echo_lvef", FIRST - timedelta(days=7), by, ("lvef", "62", None, None))
    day = TODAY - timedelta(days=3)
    record_values(patient, "echo_lvef", day, by, ("lvef", "60", None, None))
    record_values(patient, "cbc", day, by, ("neutrophils", "3.1", "1.8", "7.5"))
    record_values(patient, "lft", day, by, ("alt", "22", "0", "40"))
    record_values(patient, "pregnancy_test", day, by, qualitative="negative")


def test_the_next_real_dose_is_judged_against_the_real_total_of_the_history(
    record: Record, patient_a: Patient, nurse: User
) -> None:
    # Eleven quarterly doses of 12 mg/m² from July 2023 to January 2026: 132 mg/m².
    plan = record(first_dose=FIRST_DOSE, doses=later_doses(11)).plan
    cumulative = label_gates.cumulative_dose(plan)
    assert cumulative is not None
    assert (cumulative.given_mg_m2, cumulative.remaining_mg_m2) == (Decimal("132"), Decimal("8"))
    _before_a_dose(patient_a, nurse)

    with pytest.raises(gates.GateRefused) as refused:
        plan_services.record_administration(
            plan=plan,
            kind="dose",
            given_on=TODAY,
            by=nurse,
            dose=DoseEntry(mg_m2=Decimal("12"), bsa_m2=BSA),
        )
    [cap] = refused.value.unmet
    assert cap.key == "cumulative_dose"
    # The real total, not "earlier doses recorded without mg/m²: the lifetime total is unknown".
    assert cap.found == "132 mg/m² already given + 12 mg/m² now = 144 mg/m²"

    # The 8 mg/m² still allowed is given without an override.
    given = plan_services.record_administration(
        plan=plan,
        kind="dose",
        given_on=TODAY,
        by=nurse,
        dose=DoseEntry(mg_m2=Decimal("8"), bsa_m2=BSA),
    )
    assert given.dose_mg_m2 == Decimal("8")
    assert label_gates.cumulative_dose(plan) == label_gates.CumulativeDose(
        given_mg_m2=Decimal("140"), doses=12, without_dose=0, cap_mg_m2=Decimal("140")
    )


def test_a_history_without_its_doses_is_refused_at_the_fields(
    record: Record, patient_a: Patient
) -> None:
    with pytest.raises(history.HistoryError) as error:
        record(doses=quarterly(4)[1:])
    assert problems(error) == {
        (
            "dose_mg_m2",
            "Mitoxantrone doses are recorded in mg/m² with the BSA. Give the dose in mg/m².",
        ),
        (
            "doses",
            "Mitoxantrone doses are recorded in mg/m² with the BSA: no dose for 03 Oct 2023, "
            "03 Jan 2024, 03 Apr 2024. Write each as the date, the dose in mg/m² and the BSA in "
            "m², e.g. '2023-10-03 12 1.80' (without a BSA, the first dose's is used).",
        ),
    }
    assert not DmtPlan.objects.filter(patient=patient_a).exists()


def test_an_implausible_dose_or_bsa_is_refused_naming_its_date(record: Record) -> None:
    with pytest.raises(history.HistoryError) as error:
        record(
            first_dose=DoseEntry(mg_m2=Decimal("12"), bsa_m2=None),
            doses=[
                # 120: a total dose in mg typed as mg/m².
                PastDose(date(2023, 10, 3), Decimal("120"), Decimal("1.8")),
                PastDose(date(2024, 1, 3), Decimal("12"), Decimal("18")),
            ],
        )
    assert problems(error) == {
        (
            "bsa_m2",
            "Mitoxantrone doses are recorded in mg/m² with the BSA. Give the BSA in m² the first "
            "dose was calculated on.",
        ),
        ("doses", "03 Oct 2023: The dose in mg/m² must be between 1 and 20."),
        ("doses", "03 Jan 2024: The BSA in m² must be between 0.8 and 3.0."),
    }


def test_a_history_past_the_lifetime_limit_is_refused(record: Record, patient_a: Patient) -> None:
    # Twelve doses of 12 mg/m²: 144 mg/m², past the label's 140.
    with pytest.raises(history.HistoryError) as error:
        record(first_dose=FIRST_DOSE, doses=later_doses(12))
    [(field, message)] = problems(error)
    assert field == "doses"
    assert message == (
        "Lifetime cumulative dose at most 140 mg/m²: a dose that would pass it is refused "
        "(US-PI §2/§5): this history makes 144 mg/m² of Mitoxantrone in all."
    )
    assert not DmtAdministration.objects.filter(plan__patient=patient_a).exists()


def test_a_second_history_counts_the_doses_of_the_first(record: Record) -> None:
    # Five doses (60 mg/m²) in 2019-2020, then seven more (84 mg/m²) from 2023: 144 mg/m².
    earlier = date(2019, 3, 4)
    record(
        started_on=earlier,
        first_dose=FIRST_DOSE,
        doses=later_doses(5, first=earlier),
        stopped_on=date(2020, 6, 1),
        stop_reason="patient_choice",
    )
    with pytest.raises(history.HistoryError) as error:
        record(first_dose=FIRST_DOSE, doses=later_doses(7))
    [(field, message)] = problems(error)
    assert field == "doses"
    assert message.endswith(
        "this history makes 144 mg/m² of Mitoxantrone in all, 60 mg/m² of it on the patient's "
        "other Mitoxantrone plans."
    )


def test_a_drug_not_dosed_by_body_surface_takes_no_mg_m2(record: Record) -> None:
    with pytest.raises(history.HistoryError) as error:
        record(
            drug_key="natalizumab_iv",
            first_dose=FIRST_DOSE,
            doses=[PastDose(date(2023, 7, 31), Decimal("12"))],
        )
    assert {field for field, _ in problems(error)} == {"dose_mg_m2", "doses"}


def test_past_doses_are_read_with_their_mg_m2_and_bsa() -> None:
    assert parse_past_doses("2023-07-03 12 mg/m² 1.85 m²\n2023-10-03 12;2024-01-03 2024-04-03") == [
        PastDose(date(2023, 7, 3), Decimal("12"), Decimal("1.85")),
        PastDose(date(2023, 10, 3), Decimal("12")),
        PastDose(date(2024, 1, 3)),
        PastDose(date(2024, 4, 3)),
    ]
    with pytest.raises(ValueError, match="comes before any date") as error:
        parse_past_doses("12 2023-07-03\n2023-10-03 12.345\n2024-01-03 12 1.8 2")
    assert str(error.value) == (
        "'12' comes before any date: write the date first. '12.345' has more than two "
        "decimals. '2' after 2024-01-03: a dose takes at most its mg/m² and its BSA after "
        "the date."
    )


# --- the history page ----------------------------------------------------------------------------


def test_the_page_takes_a_dose_per_line_and_shows_a_missing_one_at_its_field(
    live_clinic: ClinicSettings,
    patient_a: Patient,
    neurologist: User,
    signed_in: Callable[[User], Any],
) -> None:
    client = signed_in(neurologist)
    url = f"/treatments/patients/{patient_a.external_id}/plans/history/"
    page = client.get(url).content.decode()
    assert 'name="dose_mg_m2"' in page
    assert "dosed by body-surface area (Mitoxantrone)" in page

    missing = client.post(
        url,
        {
            "drug_key": "mitoxantrone",
            "started_on": "2023-07-03",
            "bsa_m2": "1.8",
            "doses": "2023-10-03 12\n2024-01-03",
        },
    )
    assert missing.status_code == 422
    body = missing.content.decode()
    assert (
        'id="id_dose_mg_m2_error">Mitoxantrone doses are recorded in mg/m² with the BSA. '
        "Give the dose in mg/m²." in body
    )
    assert (
        'id="id_doses_error">Mitoxantrone doses are recorded in mg/m² with the BSA: no dose '
        in (body)
    )
    assert not DmtPlan.objects.filter(patient=patient_a).exists()

    response = client.post(
        url,
        {
            "drug_key": "mitoxantrone",
            "started_on": "2023-07-03",
            "dose_mg_m2": "12",
            "bsa_m2": "1.8",
            "doses": "2023-10-03 12\n2024-01-03 10 1.85",
        },
    )
    assert response.status_code == 302
    plan = DmtPlan.objects.get(patient=patient_a)
    assert list(plan.administrations.values_list("dose_mg_m2", "bsa_m2")) == [
        (Decimal("12.00"), BSA),
        (Decimal("12.00"), BSA),
        (Decimal("10.00"), Decimal("1.85")),
    ]
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "34 of 140 mg/m² (106 mg/m² left)" in page


# --- the go-live CSV -----------------------------------------------------------------------------


def to_csv(columns: tuple[Any, ...], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c.name for c in columns], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def patient_row(n: int) -> dict[str, str]:
    return {
        "mrn": f"MX{n:06d}",
        "given_name": "Given",
        "family_name": f"Family{n}",
        "date_of_birth": "1975-05-17",
        "sex": "male",
        "care_team": "Team A",
        "disease_course": "rrms 2005-03-01; spms 2018-09-01",
    }


def mitoxantrone_row(n: int, count: int = 4, **cells: str) -> dict[str, str]:
    """Quarterly doses of 12 mg/m² from July 2023 on a BSA of 1.80 m²: `count` in all."""
    return {
        "mrn": f"MX{n:06d}",
        "drug": "mitoxantrone",
        "started_on": f"{FIRST:%Y-%m-%d}",
        "dose_mg_m2": "12",
        "bsa_m2": "1.80",
        "doses": "; ".join(f"{day:%Y-%m-%d} 12" for day in quarterly(count)[1:]),
        **cells,
    }


@pytest.fixture
def admin(live_clinic: ClinicSettings, admin_user: User, neurologist: User) -> User:
    return admin_user


def test_the_csv_carries_each_dose_and_the_gate_counts_them(
    admin: User, django_capture_on_commit_callbacks: Any
) -> None:
    dmt = to_csv(
        DMT_COLUMNS,
        [mitoxantrone_row(1, doses="2023-10-03 12; 2024-01-03 10 1.85")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = golive.import_files(
            patients_csv=to_csv(PATIENT_COLUMNS, [patient_row(1)]), dmt_csv=dmt, by=admin
        )
    assert report.issues == []
    assert (report.plans, report.administrations) == (1, 3)
    plan = DmtPlan.objects.get(patient__mrn="MX000001")
    assert list(plan.administrations.values_list("dose_mg_m2", "bsa_m2")) == [
        (Decimal("12.00"), BSA),
        (Decimal("12.00"), BSA),
        (Decimal("10.00"), Decimal("1.85")),
    ]
    cumulative = label_gates.cumulative_dose(plan)
    assert cumulative is not None
    assert (cumulative.given_mg_m2, cumulative.remaining_mg_m2) == (Decimal("34"), Decimal("106"))


def test_the_dry_run_reports_a_bad_dose_cell_by_line_and_column(admin: User) -> None:
    patients = to_csv(PATIENT_COLUMNS, [patient_row(n) for n in range(1, 6)])
    dmt = to_csv(
        DMT_COLUMNS,
        [
            mitoxantrone_row(1),
            mitoxantrone_row(2, dose_mg_m2="twelve"),
            mitoxantrone_row(3, doses="2023-10-03; 2024-01-03 12"),
            mitoxantrone_row(4, bsa_m2=""),
            # Twelve doses of 12 mg/m²: 144 mg/m².
            mitoxantrone_row(5, count=12),
        ],
    )

    report = golive.check_files(patients_csv=patients, dmt_csv=dmt, by=admin)

    found = {(i.file, i.line, i.column): i.message for i in report.issues}
    assert found == {
        (DMT_FILE, 3, "dose_mg_m2"): "'twelve' is not a number: write e.g. 12 or 1.85.",
        (DMT_FILE, 4, "doses"): (
            "Mitoxantrone doses are recorded in mg/m² with the BSA: no dose for 03 Oct 2023. "
            "Write each as the date, the dose in mg/m² and the BSA in m², e.g. "
            "'2023-10-03 12 1.80' (without a BSA, the first dose's is used)."
        ),
        (DMT_FILE, 5, "bsa_m2"): (
            "Mitoxantrone doses are recorded in mg/m² with the BSA. Give the BSA in m² the "
            "first dose was calculated on."
        ),
        (DMT_FILE, 6, "doses"): (
            "Lifetime cumulative dose at most 140 mg/m²: a dose that would pass it is refused "
            "(US-PI §2/§5): this history makes 144 mg/m² of Mitoxantrone in all."
        ),
    }
    assert not Patient.objects.filter(mrn__startswith="MX").exists()


def test_one_bad_dose_imports_nothing(admin: User, django_capture_on_commit_callbacks: Any) -> None:
    patients = to_csv(PATIENT_COLUMNS, [patient_row(1), patient_row(2)])
    dmt = to_csv(DMT_COLUMNS, [mitoxantrone_row(1), mitoxantrone_row(2, dose_mg_m2="120")])

    with django_capture_on_commit_callbacks(execute=True):
        report = golive.import_files(patients_csv=patients, dmt_csv=dmt, by=admin)

    assert not report.imported
    assert [(i.line, i.column) for i in report.issues] == [(3, "dose_mg_m2")]
    assert not Patient.objects.filter(mrn__startswith="MX").exists()
    assert not DmtAdministration.objects.exists()


def test_the_lifetime_limit_counts_the_patients_other_rows_of_the_drug(admin: User) -> None:
    patients = to_csv(PATIENT_COLUMNS, [patient_row(1)])
    earlier = mitoxantrone_row(
        1,
        started_on="2019-03-04",
        stopped_on="2020-06-01",
        stop_reason="patient_choice",
        doses="; ".join(f"{day:%Y-%m-%d} 12" for day in quarterly(5, date(2019, 3, 4))[1:]),
    )
    dmt = to_csv(DMT_COLUMNS, [earlier, mitoxantrone_row(1, count=7)])

    report = golive.check_files(patients_csv=patients, dmt_csv=dmt, by=admin)

    [issue] = report.issues
    assert (issue.line, issue.column) == (3, "doses")
    assert "60 mg/m² of it on the patient's other Mitoxantrone plans" in issue.message
