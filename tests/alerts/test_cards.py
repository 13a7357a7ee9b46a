"""An alert's card (treatments.alerts.cards), rendered in Python: what a clinician reads on it,
the steps their role may take, and that nothing typed into a record can become markup."""

from __future__ import annotations

import dataclasses
import re

from django.test import Client

from tests.alerts.test_alert_lifecycle import overdue_spec
from tests.conftest import sign_in
from treatments.alerts import services as alerts
from treatments.models import Alert


def _raise(patient, **changes) -> Alert:
    spec = overdue_spec(patient, 1)
    alerts.raise_alerts([dataclasses.replace(spec, **changes)])
    return Alert.objects.get(condition_key="overdue:item:1")


def test_text_from_records_is_shown_as_text_never_as_markup(signed_in, nurse, patient_a):
    patient_a.family_name = 'O\'Brien <img src=x onerror="alert(1)">'
    patient_a.save()
    _raise(patient_a, title="<script>alert('title')</script> ALT overdue")
    Alert.objects.update(detail="Due & <b>late</b>", action='Call "today"')

    page = signed_in(nurse).get("/alerts/").content.decode()

    assert "<script>alert" not in page
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; ALT overdue" in page
    assert "O&#x27;BRIEN &lt;IMG SRC=X ONERROR=&quot;ALERT(1)&quot;&gt;, Alice" in page
    assert '<p class="muted">Due &amp; &lt;b&gt;late&lt;/b&gt;</p>' in page
    assert "<p><strong>Action:</strong> Call &quot;today&quot;</p>" in page


def test_the_card_acknowledges_with_its_own_csrf_token(nurse, patient_a):
    alert = _raise(patient_a)
    client = sign_in(Client(), nurse)
    client.handler.enforce_csrf_checks = True  # as a browser: a post without the token fails
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 403
    page = client.get("/alerts/").content.decode()
    card = page[page.index(f'id="alert-{alert.pk}"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', card)
    assert token is not None

    response = client.post(
        f"/alerts/{alert.pk}/acknowledge/", {"csrfmiddlewaretoken": token.group(1)}
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


def test_a_role_that_does_not_act_on_the_alert_is_told_so_and_given_no_buttons(
    signed_in, therapist, patient_a
):
    _raise(patient_a)
    page = signed_in(therapist).get("/alerts/", {"scope": "team"}).content.decode()

    assert "Your role does not act on safety alerts." in page
    assert "Acknowledge</button>" not in page
    assert "Snooze…" not in page


def test_a_resolved_alert_says_who_resolved_it_and_offers_no_steps(signed_in, nurse, patient_a):
    alert = _raise(patient_a)
    alerts.resolve(alert=alert, by=nurse, note="Taken at the GP <surgery>")

    page = signed_in(nurse).get("/alerts/", {"status": "resolved"}).content.decode()

    assert re.search(r"Resolved \d\d \w{3} \d{4} \d\d:\d\d by \w", page)
    assert "Taken at the GP &lt;surgery&gt;" in page
    assert "Acknowledge</button>" not in page
