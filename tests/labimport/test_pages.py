"""The lab import pages: a nurse works the review queue, an admin keeps the code table, uploads
answer with a summary, and nobody sees another team's held messages."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patients.models import Patient
from tests.labimport.conftest import Import
from tests.labimport.messages import lft_panel, obr, obx, oru
from treatments.models import (
    InboundMessage,
    LabCodeMapping,
    MessageState,
    Result,
    ReviewItem,
    ReviewStatus,
)


def _held(import_text: Import, patient: Patient, **kwargs: Any) -> ReviewItem:
    text = oru(*kwargs.pop("segments", lft_panel()), born=patient.date_of_birth, **kwargs)
    return import_text(text).outcomes[0].message.review


def test_a_nurse_matches_an_unknown_mrn_by_hand_and_the_item_closes(
    on_teriflunomide: Any,
    patient_a: Patient,
    nurse: Any,
    signed_in: Any,
    import_text: Import,
    django_capture_on_commit_callbacks: Any,
) -> None:
    item = _held(import_text, patient_a, mrn="AAA0001X")  # a typing slip at the lab
    client = signed_in(nurse)

    queue = client.get(reverse("labimport:queue"))
    assert "No patient in Myelin has the MRN this message gives." in queue.content.decode()
    page = client.get(reverse("labimport:review", args=[item.pk]))
    assert "AAA0001X" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("labimport:review", args=[item.pk]), {"mrn": "aaa00001", "note": "Lab typo"}
        )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.IMPORTED
    assert item.closed_by == nurse
    assert item.message.state == MessageState.IMPORTED
    result = Result.objects.get(patient=patient_a)
    assert on_teriflunomide.items.get(result=result).status in ("done_in_window", "done_late")


def test_a_nurse_cannot_match_to_a_patient_outside_her_teams(
    on_teriflunomide: Any,
    patient_a: Patient,
    patient_b: Patient,
    nurse: Any,
    signed_in: Any,
    import_text: Import,
) -> None:
    item = _held(import_text, patient_a, mrn="ZZZ99999")

    response = signed_in(nurse).post(
        reverse("labimport:review", args=[item.pk]), {"mrn": patient_b.mrn}
    )

    assert response.status_code == 422
    assert "None of your care teams&#x27; patients has this MRN." in response.content.decode()
    assert not Result.objects.exists()


def test_an_unknown_code_is_resolved_by_choosing_what_it_means(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any, signed_in: Any, import_text: Import
) -> None:
    item = _held(
        import_text,
        patient_a,
        segments=[obr(1, "F9", "LIV^Liver^L"), obx(1, "ALTX^ALT local^L", "30", "U/L", "7-56")],
    )
    client = signed_in(nurse)
    assert (
        "What is &#x27;ALTX (L) ALT local&#x27;?"
        in client.get(reverse("labimport:review", args=[item.pk])).content.decode()
    )

    response = client.post(
        reverse("labimport:review", args=[item.pk]), {"mrn": "AAA00001", "code_0": "alt"}
    )

    assert response.status_code == 302
    assert Result.objects.get(patient=patient_a).values.get().analyte == "alt"


def test_rejecting_needs_a_reason_and_keeps_the_message(
    on_teriflunomide: Any, patient_a: Patient, nurse: Any, signed_in: Any, import_text: Import
) -> None:
    item = _held(import_text, patient_a, mrn="ZZZ99999")
    client = signed_in(nurse)

    refused = client.post(reverse("labimport:reject", args=[item.pk]), {"reason": ""})
    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()

    client.post(reverse("labimport:reject", args=[item.pk]), {"reason": "Not our patient"})

    item.refresh_from_db()
    assert item.status == ReviewStatus.REJECTED
    assert item.note == "Not our patient"
    message = InboundMessage.objects.get(pk=item.message_id)
    assert message.state == MessageState.REJECTED
    assert message.raw, "a rejected message is kept, with its reason"


def test_held_messages_are_seen_by_the_team_of_their_patient_or_by_all_when_unmatched(
    on_teriflunomide: Any,
    patient_a: Patient,
    other_neurologist: Any,
    signed_in: Any,
    import_text: Import,
) -> None:
    matched = import_text(oru(*lft_panel(), born="19000101", control_id="M1")).outcomes[0]
    unmatched = import_text(oru(*lft_panel(), mrn="ZZZ99999", control_id="M2")).outcomes[0]

    body = signed_in(other_neurologist).get(reverse("labimport:queue")).content.decode()

    assert f"/labs/review/{unmatched.message.review.pk}/" in body
    assert f"/labs/review/{matched.message.review.pk}/" not in body
    assert "Archer" not in body


def test_the_admin_maps_a_local_code_and_the_next_message_imports(
    on_teriflunomide: Any,
    patient_a: Patient,
    admin_user: Any,
    signed_in: Any,
    import_text: Import,
) -> None:
    client = signed_in(admin_user)
    response = client.post(
        reverse("labimport:codes"),
        {"code": "altx", "coding_system": "l", "sending_facility": "northlab", "target": "alt"},
    )
    assert response.status_code == 302
    assert LabCodeMapping.objects.get().code == "ALTX"

    summary = import_text(
        oru(
            obr(1, "F10", "LIV^Liver^L"),
            obx(1, "ALTX^ALT local^L", "30", "U/L", "7-56"),
            born=patient_a.date_of_birth,
        )
    )

    assert summary.outcomes[0].message.state == MessageState.IMPORTED


def test_the_admin_uploads_a_file_and_sees_only_the_summary(
    on_teriflunomide: Any, patient_a: Patient, admin_user: Any, signed_in: Any
) -> None:
    client = signed_in(admin_user)
    upload = SimpleUploadedFile(
        "results.hl7", oru(*lft_panel(), born=patient_a.date_of_birth).encode()
    )

    response = client.post(reverse("labimport:upload"), {"upload": [upload]})

    assert response.status_code == 200
    body = response.content.decode()
    assert "1 message(s) imported with 4 result(s)" in body
    assert "Archer" not in body
    assert "AAA00001" not in body
    assert client.get(reverse("labimport:queue")).status_code == 403
    assert client.get(reverse("labimport:messages")).status_code == 200


def test_an_empty_upload_is_refused_next_to_the_form(nurse: Any, signed_in: Any) -> None:
    response = signed_in(nurse).post(reverse("labimport:upload"), {"text": "  "})

    assert response.status_code == 422
    assert "Choose a file or paste at least one message." in response.content.decode()
