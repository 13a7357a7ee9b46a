"""The demo clinic `make run` loads on its first start: about sixty patients over both teams, with
real work waiting (open monitoring, overdue items, open alerts), loaded once."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from clinic import demo
from clinic.accounts.models import User
from clinic.demo import TEAM_A, TEAM_B
from patients import demo as patients_demo
from patients.models import EdssAssessment, Patient, Referral
from treatments.models import Alert, DmtPlan, MonitoringItem, Result
from treatments.models.alerts import ACTIVE_STATUSES

pytestmark = pytest.mark.django_db


def _load(settings: Any) -> str:
    settings.DEMO_MODE = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Patient,
            EdssAssessment,
            Referral,
            DmtPlan,
            MonitoringItem,
            Result,
            Alert,
        )
    }


def _sign_in_demo(client: Any, username: str) -> Any:
    response = client.post(
        "/accounts/login/", {"username": username, "password": demo.demo_password()}
    )
    assert response.status_code == 302, "sign-in failed"
    return client


def test_a_first_run_gives_both_teams_about_sixty_patients_and_real_work(
    settings: Any, client: Any
) -> None:
    _load(settings)
    per_team = dict(
        Patient.objects.values_list("care_team__name").annotate(n=Count("pk")).order_by()
    )
    assert 55 <= sum(per_team.values()) <= 65
    assert per_team[TEAM_A] >= 30
    assert per_team[TEAM_B] >= 15
    # Every patient belongs to the README's demo clinicians; the generator's made-up staff
    # are not created.
    usernames = {u.username for u in demo.DEMO_USERS}
    clinicians = set(Patient.objects.values_list("neurologist__username", flat=True))
    clinicians |= set(Patient.objects.values_list("nurse__username", flat=True))
    assert clinicians <= usernames
    assert not User.objects.filter(email__endswith="@bench.invalid").exists()
    # The showcase patients keep their stories; the rest follow the clinic's MRN format.
    assert Patient.objects.get(mrn="MS100002").given_name == "Daniel"
    mrns = Patient.objects.values_list("mrn", flat=True)
    assert all(mrn.startswith(("MS1", "MS2")) for mrn in mrns)
    generated = Patient.objects.exclude(mrn__in=[row[0] for row in patients_demo.DEMO_PATIENTS])
    assert generated.count() >= 40
    assert not generated.filter(latest_edss__isnull=True).exists()

    for team in (TEAM_A, TEAM_B):
        items = MonitoringItem.objects.open().filter(patient__care_team__name=team)
        assert items.count() > 50, team
        assert items.filter(overdue_since__isnull=False).exists(), team
        alerts = Alert.objects.filter(patient__care_team__name=team, status__in=ACTIVE_STATUSES)
        assert alerts.count() >= 3, team

    # The lead neurologist's own caseload runs to a second page (25 a page).
    okafor = User.objects.get(username="dr.okafor")
    assert Patient.objects.filter(neurologist=okafor).count() > 25
    _sign_in_demo(client, "dr.okafor")
    assert client.get(reverse("caseload:page") + "?page=2").status_code == 200
    theirs = generated.filter(neurologist=okafor).first()
    assert theirs is not None
    assert client.get(theirs.get_absolute_url()).status_code == 200
    _sign_in_demo(client, "nurse.patel")
    assert client.get(reverse("treatments:worklist")).status_code == 200


def test_loading_the_demo_twice_changes_nothing(settings: Any) -> None:
    assert "Demo clinic loaded" in _load(settings)
    first = _snapshot()
    assert "already loaded" in _load(settings)
    assert _snapshot() == first
