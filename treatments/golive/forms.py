"""The go-live upload: two CSV files and which of the two runs to make."""

from __future__ import annotations

from typing import Any

from django import forms

MAX_FILE_BYTES = 20 * 1024 * 1024


class GoLiveForm(forms.Form):
    patients_file = forms.FileField(
        label="Patients (CSV)", help_text="One row per patient, with the columns listed below."
    )
    dmt_file = forms.FileField(
        label="DMT history (CSV)",
        required=False,
        help_text="One row per drug a patient was or is on. Optional.",
    )

    def _small(self, name: str) -> Any:
        upload = self.cleaned_data.get(name)
        if upload is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it."
            )
        return upload

    def clean_patients_file(self) -> Any:
        return self._small("patients_file")

    def clean_dmt_file(self) -> Any:
        return self._small("dmt_file")
