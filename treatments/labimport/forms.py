"""Forms validate the shape of input; the services decide (and refuse) the workflow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from treatments.errors import ServiceErrorMixin
from treatments.labimport.matching import target_choices
from treatments.labimport.report import Code

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".hl7,.txt,.csv,.oru"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark) as HL7 v2.5+ prefers; older feeds send
    Latin-1, which any byte sequence is."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class UploadForm(forms.Form):
    upload = MultipleFileField(
        label="Files",
        required=False,
        help_text="HL7 v2 ORU^R01 messages (one or many, MLLP-framed or not) or a CSV file.",
    )
    text = forms.CharField(
        label="Or paste messages",
        required=False,
        max_length=MAX_UPLOAD_BYTES,  # pasted, as much as a file may hold
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    lab = forms.CharField(
        label="Laboratory (CSV without a lab column)", required=False, max_length=120
    )
    dry_run = forms.BooleanField(label="Dry run: check everything, keep nothing", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        files: list[UploadedFile] = data.get("upload") or []
        texts = []
        for upload in files:
            if upload.size and upload.size > MAX_UPLOAD_BYTES:
                self.add_error("upload", f"{upload.name} is larger than 10 MB; split it.")
                continue
            texts.append(decode(upload.read()))
        if data.get("text", "").strip():
            texts.append(data["text"])
        if not self.errors and not any(t.strip() for t in texts):
            raise forms.ValidationError("Choose a file or paste at least one message.")
        data["texts"] = texts
        return data


class ResolveForm(ServiceErrorMixin, forms.Form):
    mrn = forms.CharField(
        label="Patient's MRN",
        max_length=12,
        required=False,
        help_text="The patient these results belong to (one of your care teams' patients).",
    )
    note = forms.CharField(label="Note", required=False, max_length=500)

    def __init__(self, *args: Any, codes: Sequence[Code] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.code_fields: list[tuple[str, str]] = []
        for index, code in enumerate(codes):
            name = f"code_{index}"
            self.fields[name] = forms.ChoiceField(
                label=f"What is '{code}'?",
                choices=[("?", "Choose…"), *target_choices()],
            )
            self.code_fields.append((name, code.code))

    def clean_mrn(self) -> str:
        return self.cleaned_data["mrn"].replace(" ", "").upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, _ in self.code_fields:
            if data.get(name) == "?":
                self.add_error(name, "Choose what this code means, or that it is not tracked.")
        return data

    def code_choices(self) -> dict[str, str]:
        return {code: self.cleaned_data[name] for name, code in self.code_fields}


class RejectForm(ServiceErrorMixin, forms.Form):
    reason = forms.CharField(label="Reason to reject", max_length=500)


class MappingForm(ServiceErrorMixin, forms.Form):
    code = forms.CharField(label="Laboratory's code", max_length=40)
    coding_system = forms.CharField(
        label="Coding system", max_length=20, required=False, help_text="e.g. L or LN; blank: any"
    )
    sending_facility = forms.CharField(
        label="Laboratory (MSH-4)", max_length=120, required=False, help_text="Blank: any"
    )
    target = forms.ChoiceField(label="Means", choices=(), required=False)
    note = forms.CharField(label="Note", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()  # type: ignore[attr-defined]
