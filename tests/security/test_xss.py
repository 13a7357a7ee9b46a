"""Stored XSS: a payload saved in every free-text field comes back escaped on every page.

Rather than list fields by hand (and miss the next one), the test writes the payload into every
free-text column of every row in the world — text and char fields that are not codes, keys or
choices — and then opens every page that can show them.
"""

from __future__ import annotations

from contextlib import nullcontext

import pghistory.models
import pgtrigger
from django.apps import apps
from django.db import models
from django.urls import reverse

from patients.records.timeline import panel_slots
from tests.security.test_access_matrix import GLOBAL, PATIENT, ROUTES, staff_objects, url_for
from tests.security.world import build_side

PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)//",
]
# Columns that are machine codes, not prose: the app looks them up, so they are not free text.
NOT_FREE_TEXT = {
    "mrn",
    "external_id",
    "username",
    "password",
    "email",
    "drug_key",
    "rule_key",
    "investigation",
    "condition_key",
    "raised_by_type",
    "raised_by_id",
    "object_type",
    "object_id",
    "hash",
    "prev_hash",
    "session_key",
    "anchor",
    "unit",
    "unit_entered",
    "canonical_unit",
    "key",
    "version",
    "region",
    "label_region",
    "phone",
    "snomed_code",
    "discipline",
    "drug_name",
    "first_name",
    "last_name",
    # Only a corrected row has one (a database constraint); its escaping is tested with the
    # correction pages (tests/patients/test_correction_pages.py).
    "correction_reason",
}


def free_text_fields(model: type[models.Model]) -> list[str]:
    names = []
    for field in model._meta.get_fields():
        if not isinstance(field, models.CharField | models.TextField) or field.choices:
            continue
        if field.name in NOT_FREE_TEXT or field.name.endswith(("_key", "_code", "_id")):
            continue
        if isinstance(field, models.CharField) and (field.max_length or 0) < 30:
            continue
        names.append(field.name)
    return names


def _append_only(model: type[models.Model]) -> list[str]:
    return [
        f"{model._meta.label}:{trigger.name}"
        for trigger in getattr(model._meta, "triggers", [])
        if isinstance(trigger, pgtrigger.Protect)
    ]


def poison(payload: str) -> int:
    changed = 0
    for app_label in ("patients", "treatments"):
        for model in apps.get_app_config(app_label).get_models():
            if issubclass(model, pghistory.models.Event):
                continue  # pghistory's event copies are written by triggers and append-only
            fields = free_text_fields(model)
            if fields:
                for obj in model.objects.all():
                    for name in fields:
                        limit = model._meta.get_field(name).max_length
                        setattr(obj, name, payload[:limit] if limit else payload)
                    # Append-only tables (default reference range versions) are poisoned too:
                    # what a result was graded against is shown on the patient's page.
                    protected = _append_only(model)
                    with pgtrigger.ignore(*protected) if protected else nullcontext():
                        model.objects.filter(pk=obj.pk).update(
                            **{name: getattr(obj, name) for name in fields}
                        )
                    changed += 1
    return changed


def test_every_page_escapes_stored_payloads(cast, patient_a, patient_b, signed_in):
    side = build_side(patient_a, cast["neurologist"], "a")
    build_side(patient_b, cast["other_neurologist"], "b")
    staff = staff_objects(cast, patient_a.care_team_id)
    for payload in PAYLOADS[:2]:
        assert poison(payload) > 10
        for role in ("neurologist", "nurse", "therapist"):
            client = signed_in(cast[role])
            urls = [
                (name, url_for(name, side if kind == PATIENT else None, staff))
                for name, (kind, _) in sorted(ROUTES.items())
                if kind in (GLOBAL, PATIENT)
                and name not in {"accounts:logout", "audit:export", "quality:export"}
            ]
            # The matrix opens one panel of the patient page; here every panel is opened.
            urls += [
                (
                    f"panel {slot.key}",
                    reverse("patients:panel", args=[patient_a.external_id, slot.key]),
                )
                for slot in panel_slots()
            ]
            for name, url in urls:
                response = client.get(url)
                if response.status_code != 200:
                    continue
                if not response["Content-Type"].startswith("text/html"):
                    # A PDF, FHIR JSON or NDJSON is data, never markup a browser runs, served
                    # as its own type with nosniff so no browser sniffs it into HTML. (The
                    # PDF's HTML source is the summary page, which this loop checks.)
                    assert response["X-Content-Type-Options"] == "nosniff", name
                    continue
                body = response.content.decode()
                assert payload not in body, f"{name} rendered a stored payload unescaped for {role}"
                # No live tag from any payload (escaped text such as &lt;img ... is harmless).
                assert "<img src=x" not in body, name
                assert '<script>alert("xss")' not in body, name


def test_patient_names_with_markup_are_escaped_in_charts_and_lists(cast, patient_a, signed_in):
    patient_a.family_name = "<b>Archer</b>"
    patient_a.save()
    client = signed_in(cast["neurologist"])
    pages = ["/patients/", "/patients/caseload/", patient_a.get_absolute_url()]
    pages += [reverse("patients:timeline", args=[patient_a.external_id])]
    for url in pages:
        body = client.get(url).content.decode()
        assert "<b>Archer</b>" not in body
        assert "<B>ARCHER</B>" not in body
