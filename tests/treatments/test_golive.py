"""The go-live import (issue #15, part 4): a clinic admin uploads its patients and their DMT
history; the dry run names every problem by line and column, and the import writes everything
in one transaction or nothing at all."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clinic.accounts.models import CareTeam, Role, User
from clinic.audit.models import AccessEvent
from clinic.permissions import CapabilityDenied
from patients.models import CourseState, Patient
from tests.factories import UserFactory
from treatments.catalogue import services as catalogue_services
from treatments.golive import services
from treatments.golive.parsing import DMT_COLUMNS, PATIENT_COLUMNS, Issue
from treatments.models import (
    OPEN_STATUSES,
    Alert,
    ClinicSettings,
    DmtAdministration,
    DmtPlan,
    ItemStatus,
    MonitoringItem,
    PlanStatus,
    PmlProfile,
)
from treatments.monitoring import sweeps
from treatments.plans import schedule

pytestmark = pytest.mark.django_db

GO_LIVE = date(2026, 1, 1)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SAMPLES = Path(services.__file__).parent / "samples"
PATIENT_HEADER = [c.name for c in PATIENT_COLUMNS]
DMT_HEADER = [c.name for c in DMT_COLUMNS]


def to_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def patient_row(n: int, **cells: str) -> dict[str, str]:
    return {
        "mrn": f"GL{n:06d}",
        "given_name": "Given",
        "family_name": f"Family{n}",
        "date_of_birth": "1980-05-17",
        "sex": "female",
        "care_team": "Team A",
        "neurologist": "dr.reyes",
        "nurse": "nurse.kim",
        "diagnosis_on": "2012-03-01",
        "disease_course": "cis 2011-10-01; rrms 2012-03-01",
        **cells,
    }


def infusions(first: date, until: date, weeks: int = 4) -> list[date]:
    days, day = [], first + timedelta(weeks=weeks)
    while day <= until:
        days.append(day)
        day += timedelta(weeks=weeks)
    return days


def dmt_row(n: int, **cells: str) -> dict[str, str]:
    return {
        "mrn": f"GL{n:06d}",
        "drug": "natalizumab_iv",
        "started_on": "2022-03-01",
        "stopped_on": "",
        "stop_reason": "",
        "stop_note": "",
        "doses": "; ".join(f"{d:%Y-%m-%d}" for d in infusions(date(2022, 3, 1), date(2026, 6, 1))),
        "courses": "",
        "conditions": "",
        **cells,
    }


@pytest.fixture
def live_clinic(eu_clinic: ClinicSettings, today: date) -> ClinicSettings:
    # The catalogue the migration loaded, which a transactional test before this one may have
    # flushed (the page lists the drug keys from it).
    catalogue_services.load_catalogue()
    eu_clinic.go_live_on = GO_LIVE
    eu_clinic.save()
    return eu_clinic


@pytest.fixture
def clinic_staff(neurologist: User, nurse: User, admin_user: User) -> dict[str, User]:
    return {"neurologist": neurologist, "nurse": nurse, "admin": admin_user}


Import = Callable[..., services.Report]


@pytest.fixture
def run_import(
    live_clinic: ClinicSettings,
    clinic_staff: dict[str, User],
    django_capture_on_commit_callbacks: Any,
) -> Import:
    def _run(patients: bytes, dmt: bytes | None = None) -> services.Report:
        with django_capture_on_commit_callbacks(execute=True):
            return services.import_files(
                patients_csv=patients, dmt_csv=dmt, by=clinic_staff["admin"]
            )

    return _run


def where(report: services.Report) -> set[tuple[str, int, str]]:
    return {(i.file, i.line, i.column) for i in report.issues}


# --- the dry run ---------------------------------------------------------------------------------


def test_the_dry_run_names_every_problem_by_line_and_column_and_writes_nothing(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User], other_neurologist: User
) -> None:
    patients = to_csv(
        PATIENT_HEADER,
        [
            patient_row(1),
            patient_row(2, mrn="ab-12", date_of_birth="1899-05-01"),
            patient_row(3, care_team="Team Z", nurse="dr.reyes"),
            patient_row(4, neurologist="dr.novak", sex="f"),
            patient_row(5, mrn="GL000001", disease_course="rrms 2012-03-01; cis 2011-01-01"),
        ],
    )
    dmt = to_csv(
        DMT_HEADER,
        [
            dmt_row(1, drug="tysabri"),
            dmt_row(1, started_on="2021-01-01", doses="2020-12-01", stopped_on="2021-06-01"),
            dmt_row(9),
        ],
    )
    before = Patient.objects.count()

    report = services.check_files(patients_csv=patients, dmt_csv=dmt, by=clinic_staff["admin"])

    assert where(report) == {
        ("patients", 3, "mrn"),
        ("patients", 3, "date_of_birth"),
        ("patients", 4, "care_team"),
        ("patients", 4, "nurse"),
        ("patients", 5, "neurologist"),
        ("patients", 5, "sex"),
        ("patients", 6, "mrn"),
        ("patients", 6, "disease_course"),
        ("DMT history", 2, "drug"),
        ("DMT history", 3, "stop_reason"),
        ("DMT history", 3, "doses"),
        ("DMT history", 4, "mrn"),
    }
    messages = {(i.line, i.column): i.message for i in report.issues if i.file == "patients"}
    assert messages[(3, "date_of_birth")] == "The date of birth cannot be before 1900."
    assert messages[(4, "care_team")] == "No care team of this name: create it first (Care teams)."
    assert messages[(4, "nurse")] == "This user is not a nurse."
    assert messages[(5, "neurologist")] == "This neurologist is not a member of the care team."
    assert messages[(6, "mrn")] == "The same MRN is on line 2."
    assert not report.imported
    assert Patient.objects.count() == before
    assert not DmtPlan.objects.exists()


def test_a_clean_dry_run_counts_what_would_be_imported(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User]
) -> None:
    report = services.check_files(
        patients_csv=to_csv(PATIENT_HEADER, [patient_row(1), patient_row(2)]),
        dmt_csv=to_csv(DMT_HEADER, [dmt_row(1)]),
        by=clinic_staff["admin"],
    )
    assert report.ok
    doses = 1 + len(infusions(date(2022, 3, 1), date(2026, 6, 1)))
    assert (report.patients, report.plans, report.administrations) == (2, 1, doses)
    assert not Patient.objects.filter(mrn__startswith="GL").exists()


def test_missing_and_unknown_columns_are_named(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User]
) -> None:
    patients = b"mrn,given_name,family_name,dob,sex\nGL000001,A,B,1980-01-01,female\n"
    report = services.check_files(patients_csv=patients, dmt_csv=None, by=clinic_staff["admin"])
    assert report.issues == [
        Issue("patients", 1, "care_team", "This column is missing: it is required."),
        Issue("patients", 1, "date_of_birth", "This column is missing: it is required."),
        Issue("patients", 1, "dob", "Unknown column: see the columns this page lists."),
    ]


def test_a_file_that_is_not_utf8_says_so_with_its_line(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User]
) -> None:
    patients = to_csv(PATIENT_HEADER, [patient_row(1)]) + "GL000002,Zoë".encode("latin-1")
    report = services.check_files(patients_csv=patients, dmt_csv=None, by=clinic_staff["admin"])
    assert report.issues == [
        Issue("patients", 3, "", "The file is not UTF-8 text: save it as CSV UTF-8.")
    ]


def test_a_row_with_too_many_cells_is_named_by_its_line(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User]
) -> None:
    good = to_csv(PATIENT_HEADER, [patient_row(1)])
    report = services.check_files(
        patients_csv=good + b"GL000002,A,B,1980-01-01,female,Team A,,,,,extra\n",
        dmt_csv=None,
        by=clinic_staff["admin"],
    )
    assert report.issues == [Issue("patients", 3, "", "This row has 11 cells; the header has 10.")]


def test_without_a_go_live_date_nothing_is_imported(
    eu_clinic: ClinicSettings, clinic_staff: dict[str, User], today: date
) -> None:
    report = services.import_files(
        patients_csv=to_csv(PATIENT_HEADER, [patient_row(1)]),
        dmt_csv=None,
        by=clinic_staff["admin"],
    )
    assert where(report) == {("clinic settings", 0, "go_live_on")}
    assert not Patient.objects.filter(mrn="GL000001").exists()


def test_only_a_clinic_admin_may_import(
    live_clinic: ClinicSettings, clinic_staff: dict[str, User]
) -> None:
    for role in ("neurologist", "nurse"):
        with pytest.raises(CapabilityDenied, match="Only clinic admins may import patients"):
            services.check_files(patients_csv=b"", dmt_csv=None, by=clinic_staff[role])


# --- all or nothing ------------------------------------------------------------------------------


def test_one_malformed_row_imports_nothing_and_says_which_row_and_why(
    run_import: Import,
) -> None:
    rows = [patient_row(n) for n in range(1, 41)]
    rows[30]["date_of_birth"] = "1984-02-30"  # line 32: the header is line 1
    dmt = to_csv(DMT_HEADER, [dmt_row(n) for n in range(1, 41)])
    events_before = AccessEvent.objects.count()

    report = run_import(to_csv(PATIENT_HEADER, rows), dmt)

    assert not report.imported
    assert report.issues == [
        Issue(
            "patients",
            32,
            "date_of_birth",
            "'1984-02-30' is not a date: write dates as YYYY-MM-DD.",
        )
    ]
    assert not Patient.objects.filter(mrn__startswith="GL").exists()
    assert not DmtPlan.objects.exists()
    assert not DmtAdministration.objects.exists()
    assert not MonitoringItem.objects.exists()
    assert AccessEvent.objects.count() == events_before


def test_the_import_writes_patients_courses_plans_and_doses_and_audits_them(
    run_import: Import, clinic_staff: dict[str, User]
) -> None:
    patients = to_csv(PATIENT_HEADER, [patient_row(1), patient_row(2, nurse="")])
    dmt = to_csv(
        DMT_HEADER,
        [
            dmt_row(
                1,
                drug="fingolimod",
                started_on="2016-04-01",
                stopped_on="2021-12-15",
                stop_reason="lack_of_efficacy",
                doses="",
            ),
            dmt_row(1, started_on="2022-01-20", conditions="jcv_positive"),
            dmt_row(2, drug="cladribine", started_on="2020-01-13", doses="", courses="2021-01-11"),
        ],
    )

    report = run_import(patients, dmt)

    assert report.ok
    assert report.imported
    alice = Patient.objects.get(mrn="GL000001")
    assert (alice.care_team.name, alice.neurologist, alice.nurse) == (
        "Team A",
        clinic_staff["neurologist"],
        clinic_staff["nurse"],
    )
    assert alice.current_course == "rrms"
    assert list(
        CourseState.objects.filter(patient=alice).values_list("course", "start_on", "end_on")
    ) == [
        ("cis", date(2011, 10, 1), date(2012, 2, 29)),
        ("rrms", date(2012, 3, 1), None),
    ]
    fingolimod, natalizumab = DmtPlan.objects.filter(patient=alice).order_by("started_on")
    assert (fingolimod.status, fingolimod.stop_reason) == (PlanStatus.STOPPED, "lack_of_efficacy")
    assert natalizumab.status == PlanStatus.ACTIVE
    assert natalizumab.switched_from == fingolimod
    assert natalizumab.conditions == ["jcv_positive"]
    assert all(p.recorded_as_history for p in (fingolimod, natalizumab))
    cladribine = DmtPlan.objects.get(patient__mrn="GL000002")
    assert list(cladribine.administrations.values_list("kind", "given_on")) == [
        ("course", date(2020, 1, 13)),
        ("course", date(2021, 1, 11)),
    ]
    created = AccessEvent.objects.filter(user=clinic_staff["admin"], action="create")
    assert created.filter(category="demographics", patient=alice).count() == 1
    assert created.filter(category="treatment", patient=alice).count() == 2
    assert created.filter(patient__isnull=True, detail__startswith="Go-live import: 2 patients")


def test_monitoring_follows_the_real_history_and_what_fell_before_go_live_never_alerts(
    run_import: Import,
) -> None:
    run_import(to_csv(PATIENT_HEADER, [patient_row(1)]), to_csv(DMT_HEADER, [dmt_row(1)]))
    plan = DmtPlan.objects.get(patient__mrn="GL000001")
    items = list(plan.items.all())
    assert {i.status for i in items if i.due_on < GO_LIVE} == {ItemStatus.BEFORE_GO_LIVE}
    jcv = [i.due_on for i in items if i.rule_key == "jcv_antibody" and i.status in OPEN_STATUSES]
    assert min(jcv) == date(2026, 3, 1), "six-monthly from the real first dose, 1 March 2022"
    assert plan.patient.care_plan.anchor_on == date(2022, 3, 1)
    # 1 March 2022 to 15 June 2026.
    assert PmlProfile.objects.get(plan=plan).exposure_months == 51

    sweeps.sweep_overdue(at=NOW)
    sweeps.sweep_due_soon(at=NOW)
    alerted = Alert.objects.filter(raised_by_type="treatments.monitoringitem").values_list(
        "raised_by_id", flat=True
    )
    assert alerted
    assert not MonitoringItem.objects.filter(
        pk__in=[int(pk) for pk in alerted], due_on__lt=GO_LIVE
    ).exists()


def test_five_hundred_generated_patients_import_correctly(
    run_import: Import, team_a: CareTeam
) -> None:
    # A second neurologist, so the care team has more than one named clinician to check.
    UserFactory(username="dr.ito", role=Role.NEUROLOGIST, teams=[team_a])
    drugs = ["natalizumab_iv", "ocrelizumab_iv", "fingolimod", "teriflunomide"]
    patients, plans = [], []
    for n in range(1, 501):
        patients.append(patient_row(n, neurologist="dr.ito" if n % 2 else "dr.reyes"))
        drug = drugs[n % 4]
        doses = {
            "natalizumab_iv": dmt_row(n)["doses"],
            "ocrelizumab_iv": "2022-03-15; 2022-09-01; 2023-03-01; 2023-09-01",
        }.get(drug, "")
        if n % 5 == 0:
            plans.append(
                dmt_row(
                    n,
                    drug="glatiramer",
                    started_on="2015-01-01",
                    stopped_on="2022-02-01",
                    stop_reason="lack_of_efficacy",
                    doses="",
                )
            )
        plans.append(dmt_row(n, drug=drug, doses=doses))

    report = run_import(to_csv(PATIENT_HEADER, patients), to_csv(DMT_HEADER, plans))

    assert report.imported, report.issues[:3]
    assert (report.patients, report.plans) == (500, 600)
    imported = Patient.objects.filter(mrn__startswith="GL")
    assert imported.count() == 500
    assert imported.filter(neurologist__username="dr.ito").count() == 250
    assert DmtPlan.objects.filter(patient__in=imported, status=PlanStatus.ACTIVE).count() == 500
    assert DmtPlan.objects.filter(switched_from__isnull=False).count() == 100
    natalizumab_infusions = 1 + len(infusions(date(2022, 3, 1), date(2026, 6, 1)))
    assert DmtAdministration.objects.filter(plan__drug_key="natalizumab_iv").count() == (
        125 * natalizumab_infusions
    )
    # Every patient has monitoring, from the real anchors, and none of it before go-live open.
    assert (
        MonitoringItem.objects.filter(patient__in=imported).values("patient").distinct().count()
        == 500
    )
    assert not MonitoringItem.objects.filter(
        patient__in=imported, due_on__lt=GO_LIVE, status__in=OPEN_STATUSES
    ).exists()
    assert PmlProfile.objects.filter(plan__patient__in=imported).count() == 125
    # The set-based first materialisation gave exactly what the item-by-item sync gives: for
    # a sample of every kind of history it finds nothing to add, move or cancel.
    report_total = schedule.SyncReport()
    for patient in imported.order_by("pk")[:40]:
        for plan in DmtPlan.objects.filter(patient=patient):
            report_total += schedule.sync_plan_monitoring(plan=plan, on=date(2026, 6, 15))
        report_total += schedule.sync_care_plan(patient=patient, on=date(2026, 6, 15))
    assert report_total == schedule.SyncReport()


def test_the_sample_files_pass_the_dry_run(live_clinic: ClinicSettings, admin_user: User) -> None:
    north = CareTeam.objects.create(name="North MS Team")
    for username, role in (
        ("dr.okafor", Role.NEUROLOGIST),
        ("dr.hughes", Role.NEUROLOGIST),
        ("nurse.patel", Role.NURSE),
    ):
        UserFactory(username=username, role=role, teams=[north])
    report = services.check_files(
        patients_csv=(SAMPLES / "patients.csv").read_bytes(),
        dmt_csv=(SAMPLES / "dmt_history.csv").read_bytes(),
        by=admin_user,
    )
    assert report.issues == []
    assert (report.patients, report.plans) == (3, 5)


# --- the page ------------------------------------------------------------------------------------


def upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_admin_dry_runs_and_imports_on_the_page(
    live_clinic: ClinicSettings,
    clinic_staff: dict[str, User],
    signed_in: Callable[[User], Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = signed_in(clinic_staff["admin"])
    page = client.get("/treatments/go-live/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<code>disease_course</code>" in body
    assert "<code>natalizumab_iv</code>" in body

    bad = to_csv(PATIENT_HEADER, [patient_row(1), patient_row(2, sex="x")])
    response = client.post(
        "/treatments/go-live/", {"patients_file": upload("p.csv", bad), "action": "check"}
    )
    assert response.status_code == 422
    assert "1 problem: nothing was imported" in response.content.decode()
    assert "<td>patients</td><td>3</td><td>sex</td>" in response.content.decode()

    good = to_csv(PATIENT_HEADER, [patient_row(1)])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/treatments/go-live/",
            {
                "patients_file": upload("p.csv", good),
                "dmt_file": upload("d.csv", to_csv(DMT_HEADER, [dmt_row(1)])),
                "action": "import",
            },
            follow=True,
        )
    assert response.status_code == 200
    assert "Imported 1 patients, 1 DMT plans" in response.content.decode()
    assert Patient.objects.filter(mrn="GL000001").exists()
