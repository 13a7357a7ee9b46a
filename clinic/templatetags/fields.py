"""How a form field's errors read on a page.

Every form renders its fields through `templates/includes/form_field.html`; the errors it shows
come from `field_errors`, so a rule about their wording holds for every form at once. A text
over its maximum length says by how much ("2,140 of 2,000 characters"), which Django's own
message leaves for the reader to work out.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import ValidationError
from django.utils.formats import number_format

register = template.Library()


def _message(error: ValidationError) -> str:
    params: dict[str, Any] = error.params or {}  # type: ignore[assignment]
    if error.code == "max_length" and "limit_value" in params and "show_value" in params:
        limit, length = int(params["limit_value"]), int(params["show_value"])
        return (
            f"This is {number_format(length, force_grouping=True)} of "
            f"{number_format(limit, force_grouping=True)} characters: shorten it by "
            f"{number_format(length - limit, force_grouping=True)}."
        )
    return " ".join(str(message) for message in error)


@register.filter
def field_errors(field: Any) -> list[str]:
    """The messages of a bound field's errors, as the person who typed the value reads them."""
    return [_message(error) for error in field.errors.as_data()]
