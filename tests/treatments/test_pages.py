"""Every treatments page: who may open it, scope (another team's patient is a 404 with no
data), the catalogue, the patient page and what treatments adds to the patient record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from clinic.accounts.models import User
from patients.models import Patient
from patients.records import timeline
from tests.factories import patient_panel
from tests.treatments.conftest import TODAY, StartPlan
from treatments.models import ClinicSettings, MonitoringItem
from treatments.monitoring import services as monitoring_services
from treatments.plans import services as plan_services
from treatments.protocols import all_protocols
from treatments.symptomatic import services as symptomatic_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_records(
    eu_clinic: object, patient_b: Patient, start_plan: StartPlan, other_neurologist: User
) -> dict[str, Any]:
    plan = start_plan(patient_b, "teriflunomide", date(2026, 2, 15), by=other_neurologist)
    item = plan.items.first()
    result = monitoring_services.record_result(
        patient=patient_b,
        investigation="alt",
        taken_on=TODAY,
        by=other_neurologist,
        values=[
            monitoring_services.EnteredValue(
                "alt", Decimal("99"), "U/L", Decimal("0"), Decimal("40")
            )
        ],
    )
    treatment = symptomatic_services.record_symptomatic_treatment(
        patient=patient_b,
        kind="symptomatic",
        drug="Baclofen",
        indication="spasticity",
        dose="10 mg tds",
        started_on=TODAY,
        stopped_on=None,
        note="",
        by=other_neurologist,
    )
    return {
        "patient": patient_b,
        "plan": plan,
        "item": item,
        "result": result,
        "treatment": treatment,
    }


def test_every_treatments_page_is_a_404_for_another_teams_patient(
    bobs_records: dict[str, Any], neurologist: User, signed_in: Any
) -> None:
    client = signed_in(neurologist)
    p = bobs_records["patient"].external_id
    plan = bobs_records["plan"].pk
    item = bobs_records["item"].pk
    result = bobs_records["result"].pk
    treatment = bobs_records["treatment"].pk
    gets = [
        f"/treatments/patients/{p}/",
        f"/treatments/patients/{p}/plans/new/",
        f"/treatments/patients/{p}/plans/{plan}/",
        f"/treatments/patients/{p}/results/new/",
        f"/treatments/patients/{p}/results/new/?investigation=alt",
        f"/treatments/patients/{p}/symptomatic/new/",
        f"/treatments/items/{item}/",
    ]
    posts = [
        f"/treatments/patients/{p}/plans/{plan}/{action}/"
        for action in (
            "start",
            "doses",
            "suspend",
            "resume",
            "stop",
            "switch",
            "conditions",
            "baseline",
        )
    ] + [
        f"/treatments/items/{item}/book/",
        f"/treatments/items/{item}/waive/",
        f"/treatments/results/{result}/review/",
        f"/treatments/patients/{p}/symptomatic/{treatment}/stop/",
        f"/treatments/patients/{p}/results/new/?investigation=alt",
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Baker" not in response.content, url
        assert b"BAKER" not in response.content, url
    for url in posts:
        response = client.post(url, {"reason": "x", "booked_on": "2026-06-20"})
        assert response.status_code == 404, url
    # Nothing was changed by the refused requests.
    assert MonitoringItem.objects.get(pk=item).status == "scheduled"


def test_the_catalogue_lists_every_drug_for_every_signed_in_role(
    cast: dict[str, User], signed_in: Any, client: Any
) -> None:
    drugs = {
        p.drug_name for p in all_protocols() if p.label_region == "EU" and p.drug_key != "general"
    }
    for user in cast.values():
        client.logout()
        response = signed_in(user).get("/treatments/catalogue/?region=EU")
        assert response.status_code == 200, user.role
        body = response.content.decode()
        assert all(name in body for name in drugs)


def test_the_drug_page_explains_every_rule_with_its_source(
    neurologist: User, signed_in: Any
) -> None:
    response = signed_in(neurologist).get("/treatments/catalogue/alemtuzumab/?region=EU")

    body = response.content.decode()
    assert response.status_code == 200
    for heading in ("Baseline checks", "Monitoring rules", "Side effects to ask about"):
        assert heading in body
    assert "48 months after the most recent dose" in body or "48 months" in body
    assert "EU-SmPC" in body


@pytest.mark.parametrize(
    ("drug", "shown"),
    [
        ("cladribine", ["a third course is refused", "Recovery in time = a lymphocyte count"]),
        ("mitoxantrone", ["at most 140 mg/m²", "US-PI §2/§5"]),
        ("siponimod", ["CYP2C9 *1/*3, *2/*3: titration", "maintenance 1 mg daily from day 5"]),
        ("ocrelizumab_iv", ["Doses at least 150 days apart", "EU-SmPC §4.2"]),
        ("fingolimod", ["Contraindicated in pregnancy", "Baseline QTc below 500 ms"]),
    ],
)
def test_the_drug_page_lists_the_label_rules_that_stop_a_dose_with_their_sources(
    neurologist: User, signed_in: Any, drug: str, shown: list[str]
) -> None:
    body = signed_in(neurologist).get(f"/treatments/catalogue/{drug}/?region=EU").content.decode()

    assert "Label rules that stop a start or dose" in body
    for text in shown:
        assert text in body


def test_an_unknown_drug_is_a_404(neurologist: User, signed_in: Any) -> None:
    assert signed_in(neurologist).get("/treatments/catalogue/aspirin/").status_code == 404


def test_only_an_admin_changes_the_clinic_settings(
    admin_user: User, neurologist: User, signed_in: Any, client: Any
) -> None:
    assert signed_in(neurologist).get("/treatments/settings/").status_code == 403
    client.logout()
    admin = signed_in(admin_user)

    bad = admin.post("/treatments/settings/", {"label_region": "US", "review_interval_months": 9})
    good = admin.post("/treatments/settings/", {"label_region": "US", "review_interval_months": 4})

    assert bad.status_code == 422
    assert b"between 3 and 6" in bad.content
    assert good.status_code == 302
    settings = ClinicSettings.load()
    assert (settings.label_region, settings.review_interval_months) == ("US", 4)


def test_the_patient_treatments_page_shows_plan_items_results_trends_and_interactions(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, nurse: User, signed_in: Any
) -> None:
    start_plan(patient_a, "interferon_beta_1a_sc", date(2026, 1, 5))
    for taken, value in ((date(2026, 2, 5), "30"), (date(2026, 4, 6), "85")):
        monitoring_services.record_result(
            patient=patient_a,
            investigation="lft",
            taken_on=taken,
            by=nurse,
            values=[
                monitoring_services.EnteredValue(
                    "alt", Decimal(value), "U/L", Decimal("0"), Decimal("40")
                )
            ],
        )
    symptomatic_services.record_symptomatic_treatment(
        patient=patient_a,
        kind="symptomatic",
        drug="Carbamazepine",
        indication="pain",
        dose="200 mg bd",
        started_on=TODAY,
        stopped_on=None,
        note="",
        by=nurse,
    )

    response = signed_in(nurse).get(f"/treatments/patients/{patient_a.external_id}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Interferon beta-1a (subcutaneous)" in body
    assert 'id="trend-alt"' in body
    assert "<svg" in body
    assert "antiepileptic" in body
    assert "liver" in body
    assert "Abnormal" in body


def test_the_patient_page_query_count_does_not_grow_with_history(
    eu_clinic: object,
    patient_a: Patient,
    start_plan: StartPlan,
    nurse: User,
    signed_in: Any,
    django_assert_max_num_queries: Any,
) -> None:
    plan = start_plan(patient_a, "natalizumab_iv", date(2026, 1, 5))
    monitoring_services.record_result(
        patient=patient_a,
        investigation="cbc",
        taken_on=date(2026, 1, 5),
        by=nurse,
        values=[
            monitoring_services.EnteredValue(
                "wbc", Decimal("6"), "10^9/L", Decimal("4"), Decimal("11")
            )
        ],
    )
    client = signed_in(nurse)
    url = f"/treatments/patients/{patient_a.external_id}/"
    with django_assert_max_num_queries(40) as few:
        client.get(url)

    for month in (2, 3, 4, 5):
        plan_services.record_administration(
            plan=plan, kind="dose", given_on=date(2026, month, 2), by=nurse
        )
        monitoring_services.record_result(
            patient=patient_a,
            investigation="cbc",
            taken_on=date(2026, month, 2),
            by=nurse,
            values=[
                monitoring_services.EnteredValue(
                    "wbc", Decimal("6"), "10^9/L", Decimal("4"), Decimal("11")
                )
            ],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_treatments_contributes_timeline_events_periods_and_a_panel(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User, rf: Any
) -> None:
    plan = start_plan(patient_a, "teriflunomide", date(2026, 2, 15))
    plan_services.stop_dmt_plan(
        plan=plan, stopped_on=TODAY, reason="pregnancy_planning", by=neurologist
    )

    titles = [e.title for e in timeline.timeline_for(patient_a)]
    periods = timeline.periods_for(patient_a)
    request = rf.get("/")
    request.user = neurologist
    panel = timeline.panel_for(request, patient_a, "treatments-panel")

    assert "Teriflunomide started" in titles
    assert "Teriflunomide stopped" in titles
    assert [(p.start, p.end, p.label) for p in periods] == [
        (date(2026, 2, 15), TODAY, "Teriflunomide")
    ]
    assert "treatments-panel" in [slot.key for slot in timeline.panel_slots()]
    assert panel.context["panel_plan"] is None  # stopped: no current plan


def test_the_patient_record_shows_the_dmt_and_monitoring_panel(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User, signed_in: Any
) -> None:
    start_plan(patient_a, "teriflunomide", date(2026, 2, 15))

    client = signed_in(neurologist)
    page = client.get(patient_a.get_absolute_url()).content.decode()
    body = patient_panel(client, patient_a, "treatments-panel")

    assert 'id="treatments-panel"' in page  # its slot, filled in by the browser
    assert 'id="treatments-panel"' in body
    assert "Teriflunomide" in body
    assert "overdue monitoring item" in body


def test_every_drug_page_renders(neurologist: User, signed_in: Any) -> None:
    client = signed_in(neurologist)
    for protocol in all_protocols():
        url = f"/treatments/catalogue/{protocol.drug_key}/?region={protocol.label_region}"
        assert client.get(url).status_code == 200, url


def test_the_result_form_renders_for_every_investigation(
    patient_a: Patient, nurse: User, signed_in: Any
) -> None:
    from treatments.protocols import INVESTIGATIONS

    client = signed_in(nurse)
    for key in INVESTIGATIONS:
        url = f"/treatments/patients/{patient_a.external_id}/results/new/?investigation={key}"
        assert client.get(url).status_code == 200, key


def test_every_page_of_a_running_plan_renders(
    eu_clinic: object, patient_a: Patient, start_plan: StartPlan, neurologist: User, signed_in: Any
) -> None:
    fingolimod = start_plan(patient_a, "fingolimod", date(2026, 1, 5))
    client = signed_in(neurologist)
    item = fingolimod.items.first()
    assert item is not None

    for url in (
        fingolimod.get_absolute_url(),
        f"/treatments/items/{item.pk}/",
        f"/treatments/patients/{patient_a.external_id}/",
        f"/treatments/patients/{patient_a.external_id}/results/new/",
        "/treatments/worklist/?tab=overdue",
    ):
        assert client.get(url).status_code == 200, url


def test_a_lab_chart_appears_only_once_an_analyte_has_two_values(
    patient_a: Patient, nurse: User, signed_in: Any, today: date
) -> None:
    def record(taken_on: date, value: str) -> None:
        monitoring_services.record_result(
            patient=patient_a,
            investigation="lft",
            taken_on=taken_on,
            by=nurse,
            values=[
                monitoring_services.EnteredValue(
                    "alt", Decimal(value), "U/L", Decimal("0"), Decimal("40")
                )
            ],
        )

    client = signed_in(nurse)
    page = f"/treatments/patients/{patient_a.external_id}/"
    record(date(2026, 3, 1), "22")
    assert 'id="trend-alt"' not in client.get(page).content.decode()  # one value: the table

    record(date(2026, 5, 1), "31")
    assert 'id="trend-alt"' in client.get(page).content.decode()
