"""Questionnaire links: who may send one, what it asks, and what answering it stores."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clinic.audit.models import AccessEvent, Action
from tests.pro.conftest import answers
from treatments.models import (
    Alert,
    AlertGrade,
    AlertKind,
    ChangeDirection,
    ClinicSettings,
    LinkState,
    OutcomeMeasurement,
    OutcomeSource,
    QuestionnaireLink,
)
from treatments.pro import services
from treatments.rehab import services as rehab


def enable_phq9() -> None:
    clinic = ClinicSettings.load()
    clinic.phq9_enabled = True
    clinic.save()


def test_a_link_names_one_patient_and_the_questionnaires_chosen(make_link, patient_a):
    link = make_link(("mfis",))
    assert link.patient == patient_a
    assert link.questionnaires == ["mfis"]
    assert link.state == LinkState.OPEN


def test_a_link_expires_after_the_configured_days(make_link, settings):
    settings.PRO_LINK_DAYS = 14
    link = make_link()
    assert link.expires_at - link.created_at == timedelta(days=14)


def test_creating_a_link_is_audited(make_link, neurologist, patient_a):
    link = make_link()
    event = AccessEvent.objects.get(object_type="treatments.questionnairelink", object_id=link.pk)
    assert (event.user_id, event.patient_id, event.action) == (
        neurologist.pk,
        patient_a.pk,
        Action.CREATE,
    )


def test_another_team_cannot_send_a_link_to_the_patient(make_link, other_neurologist):
    with pytest.raises(services.ProRefused, match="not in your care teams"):
        make_link(by=other_neurologist)


def test_the_admin_cannot_send_a_link(make_link, admin_user):
    with pytest.raises(services.ProRefused, match="Only clinicians"):
        make_link(by=admin_user)


def test_phq9_is_offered_only_when_the_clinic_enables_it(make_link):
    with pytest.raises(services.ProRefused, match="Choose at least one"):
        make_link(("msis29", "phq9"))
    enable_phq9()
    assert make_link(("msis29", "phq9")).questionnaires == ["msis29", "phq9"]


def test_an_unknown_questionnaire_is_refused(make_link):
    with pytest.raises(services.ProRefused):
        make_link(("msis29", "sf36"))


def test_a_patient_without_an_email_cannot_be_emailed(make_link, patient_a):
    patient_a.email = ""
    patient_a.save()
    with pytest.raises(services.ProRefused, match="no e-mail address"):
        make_link(send_email=True)


def test_the_email_carries_the_link_and_no_name(
    make_link, patient_a, settings, django_capture_on_commit_callbacks
):
    patient_a.email = "alice@example.org"
    patient_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        link = make_link(send_email=True)  # the task is queued when the link commits
    [message] = mail.outbox
    assert message.to == ["alice@example.org"]
    assert f"{settings.MYELIN_SITE_URL}/q/" in message.body
    assert patient_a.family_name not in message.body
    assert patient_a.given_name not in message.body
    link.refresh_from_db()
    assert link.emailed_at is not None
    assert services.send_link_email(link.pk) is False  # claimed: never sent twice
    assert len(mail.outbox) == 1


# --- submitting --------------------------------------------------------------------------


def test_answers_are_stored_as_patient_reported_outcome_measures(make_link, patient_a):
    link = make_link()
    submitted = services.submit_answers(link=link, answers=answers(["msis29", "mfis"], 2))
    by_measure = {m.measure: m for m in submitted.measurements}
    assert set(by_measure) == {"msis29", "mfis"}
    msis = by_measure["msis29"]
    assert msis.source == OutcomeSource.PATIENT_REPORTED
    assert msis.session is None
    assert msis.questionnaire_link == link
    assert msis.patient == patient_a
    assert msis.score == Decimal("33.3")  # 20 items at 2: (40 - 20) / 60 x 100
    assert by_measure["mfis"].score == Decimal("42")  # 21 items at 2
    assert by_measure["mfis"].fields["total"] == "42"


def test_the_answers_are_kept_item_by_item_on_the_link(make_link):
    link = make_link(("mfis",))
    services.submit_answers(link=link, answers=answers(["mfis"], 1))
    link.refresh_from_db()
    assert link.answers["mfis"]["items"]["21"] == 1
    assert link.used_at is not None
    assert link.state == LinkState.USED


def test_submitting_is_audited_with_no_user(make_link, patient_a):
    link = make_link(("mfis",))
    services.submit_answers(link=link, answers=answers(["mfis"]))
    event = AccessEvent.objects.filter(object_id=link.pk, action=Action.CREATE).latest("id")
    assert event.user_id is None
    assert event.patient_id == patient_a.pk
    assert "submitted" in event.detail


def test_a_link_cannot_be_used_twice(make_link):
    link = make_link(("mfis",))
    services.submit_answers(link=link, answers=answers(["mfis"]))
    with pytest.raises(services.LinkUnavailable) as refused:
        services.submit_answers(link=link, answers=answers(["mfis"], 4))
    assert refused.value.state == LinkState.USED
    assert OutcomeMeasurement.objects.filter(questionnaire_link=link).count() == 1


def test_an_incomplete_questionnaire_is_refused_and_the_link_stays_open(make_link):
    link = make_link(("msis29", "mfis"))
    partial = answers(["msis29", "mfis"])
    del partial["mfis"][7]
    with pytest.raises(services.IncompleteQuestionnaires) as refused:
        services.submit_answers(link=link, answers=partial)
    assert refused.value.errors == {"mfis": [(7, "Please choose an answer.")]}
    link.refresh_from_db()
    assert link.state == LinkState.OPEN
    assert not OutcomeMeasurement.objects.filter(questionnaire_link=link).exists()


def test_a_withdrawn_link_cannot_be_answered(make_link, nurse):
    link = make_link(("mfis",))
    services.revoke_link(link=link, by=nurse)
    with pytest.raises(services.LinkUnavailable) as refused:
        services.submit_answers(link=link, answers=answers(["mfis"]))
    assert refused.value.state == LinkState.REVOKED


def test_an_answered_link_cannot_be_withdrawn(make_link, nurse):
    link = make_link(("mfis",))
    services.submit_answers(link=link, answers=answers(["mfis"]))
    with pytest.raises(services.ProRefused):
        services.revoke_link(link=link, by=nurse)


def test_an_expired_link_cannot_be_answered(make_link):
    link = make_link(("mfis",))
    with (
        time_machine.travel(link.expires_at + timedelta(seconds=1)),
        pytest.raises(services.LinkUnavailable) as refused,
    ):
        services.submit_answers(link=link, answers=answers(["mfis"]))
    assert refused.value.state == LinkState.EXPIRED


def test_a_patient_reported_score_is_compared_with_the_therapists_last_one(make_link, log_session):
    # The therapist measured MFIS 30 (below the fatigue cut-off of 38) a month ago.
    log_session(
        timezone.localdate() - timedelta(days=30),
        {"mfis": {"physical": 15, "cognitive": 12, "psychosocial": 3}},
    )
    link = make_link(("mfis",))
    [mfis] = services.submit_answers(link=link, answers=answers(["mfis"], 2)).measurements
    assert mfis.previous is not None
    assert mfis.previous.source == OutcomeSource.CLINICIAN
    assert mfis.change == ChangeDirection.WORSE  # 30 -> 42 crosses the cut-off
    assert mfis.is_flagged


def test_patient_reported_scores_are_charted_with_the_rest(make_link, patient_a, log_session):
    log_session(
        timezone.localdate() - timedelta(days=30),
        {"msis29": {"physical": "10", "psychological": "10"}},
    )
    link = make_link(("msis29",))
    services.submit_answers(link=link, answers=answers(["msis29"], 3))
    [trend] = rehab.outcome_trends(patient=patient_a, today=timezone.localdate())
    assert "Physical (patient-reported)" in trend.chart
    assert "Psychological (patient-reported)" in trend.chart
    assert "Physical 10" in trend.chart  # the therapist's value, on the same axis
    assert trend.latest.is_patient_reported
    assert trend.latest.change == ChangeDirection.WORSE


# --- PHQ-9 item 9 ------------------------------------------------------------------------------


def test_a_phq9_self_harm_answer_raises_a_critical_alert_for_the_care_team(
    make_link, patient_a, neurologist
):
    enable_phq9()
    link = make_link(("phq9",))
    given = answers(["phq9"], 1)
    given["phq9"][9] = 2
    submitted = services.submit_answers(link=link, answers=given)
    assert submitted.self_harm
    alert = Alert.objects.get(kind=AlertKind.PHQ9_SELF_HARM)
    assert (alert.patient, alert.grade, alert.owner) == (
        patient_a,
        AlertGrade.CRITICAL,
        neurologist,
    )
    assert "More than half the days" in alert.detail
    assert "PHQ-9" in alert.source
    assert alert.raised_by_id == str(link.pk)


def test_phq9_without_a_self_harm_answer_raises_no_alert(make_link):
    enable_phq9()
    link = make_link(("phq9",))
    given = answers(["phq9"], 3)
    given["phq9"][9] = 0
    submitted = services.submit_answers(link=link, answers=given)
    assert not submitted.self_harm
    assert submitted.measurements[0].score == Decimal("24")
    assert submitted.measurements[0].band == "Severe"
    assert not Alert.objects.filter(kind=AlertKind.PHQ9_SELF_HARM).exists()


def test_a_rehab_session_cannot_record_the_phq9(log_session):
    with pytest.raises(rehab.RehabRefused, match="questionnaire link"):
        log_session(timezone.localdate(), {"phq9": {f"item_{n}": 0 for n in range(1, 10)}})


def test_the_database_refuses_a_patient_reported_row_without_its_link(patient_a):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        OutcomeMeasurement.objects.create(
            patient=patient_a,
            source=OutcomeSource.PATIENT_REPORTED,
            measure="mfis",
            measured_on=timezone.localdate(),
            fields={},
            score=1,
        )


def test_usable_links_exclude_used_expired_withdrawn_and_locked(make_link, nurse):
    now = timezone.now()
    open_link, used, withdrawn, locked = (make_link(("mfis",)) for _ in range(4))
    services.submit_answers(link=used, answers=answers(["mfis"]))
    services.revoke_link(link=withdrawn, by=nurse)
    QuestionnaireLink.objects.filter(pk=locked.pk).update(locked_at=now)
    assert list(QuestionnaireLink.objects.usable(at=now)) == [open_link]
    assert not QuestionnaireLink.objects.usable(at=open_link.expires_at).exists()
