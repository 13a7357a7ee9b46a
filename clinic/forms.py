"""Form pieces every app's forms share."""

from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """A native date picker: the value travels as ISO (YYYY-MM-DD), whatever the locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d", **kwargs)
