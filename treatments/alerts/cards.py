"""An alert's card in the inbox, rendered in Python.

The inbox lists thirty cards a page. Through the template engine a card cost about 80 µs, some
forty nodes each looked up through the context, localised and escaped: a fifth of the worker's
time for the page. Here a card is a few format strings whose values are escaped once, in a few
microseconds. The card is all text worked out by `views.alert_row` (plain strings, never
markup), so escaping each one is the whole of the template engine's safety here.

The same card is sent for the list, the alert a link names (highlighted) and the one row an
htmx action swaps back (with its error, or the refused action's form).
"""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def _optional(template: str, value: str | None) -> str:
    return "" if value is None else template.format(escape(value))


def card(
    row: dict[str, Any],
    *,
    csrf_token: str,
    highlight: bool = False,
    error: str | None = None,
    action: str | None = None,
    action_form: str = "",
) -> SafeString:
    """The card of one row (`views.alert_row`). `action` names the snooze or resolve form
    sent with the card (`action_form`, already rendered), after a refused action."""
    pk = escape(row["pk"])
    grade = escape(row["grade"])
    parts = [
        f'<article class="card alert-card alert-{grade}{" alert-linked" if highlight else ""}"'
        f' id="alert-{pk}"{' aria-current="true"' if highlight else ""}>\n'
        f'  <header class="alert-head">\n'
        f'    <span class="pill pill-{grade}">{escape(row["grade_text"])}</span>\n'
        f"    <strong>{escape(row['kind_label'])}</strong>\n"
        f'    <span class="pill pill-muted">{escape(row["status_text"])}</span>\n'
        f'    <span class="muted">{escape(row["raised"])}</span>\n'
        f"  </header>\n"
        f'  <p><a href="{escape(row["patient_url"])}">{escape(row["patient_name"])}</a>'
        f" · MRN {escape(row['mrn'])}</p>\n"
        f"  <p>{escape(row['title'])}</p>\n",
        _optional('  <p class="muted">{}</p>\n', row["detail"]),
        _optional("  <p><strong>Action:</strong> {}</p>\n", row["action"]),
        _optional('  <p class="muted">Source: {}</p>\n', row["source"]),
        f'  <p class="muted">Owner: {escape(row["people"])}</p>\n',
    ]
    if error and (not action or not row["is_active"]):
        parts.append(f'  <p class="error" role="alert">{escape(error)}</p>\n')
    steps = row["steps"]
    if row["resolved"]:
        parts.append(f'  <p class="muted">{escape(row["resolved"])}</p>\n')
    elif steps["acknowledge"] or steps["snooze"] or steps["resolve"]:
        parts.append('  <div class="row-form">\n')
        if row["acknowledgeable"]:
            url = escape(row["acknowledge_url"])
            parts.append(
                f'    <form method="post" action="{url}" hx-post="{url}"'
                f' hx-target="#alert-{pk}" hx-swap="outerHTML">\n'
                f'      <input type="hidden" name="csrfmiddlewaretoken"'
                f' value="{escape(csrf_token)}"><button type="submit" class="button small">'
                f"Acknowledge</button>\n"
                f"    </form>\n"
            )
        for step, label in (("snooze", "Snooze…"), ("resolve", "Resolve…")):
            if steps[step]:
                url = escape(row[f"{step}_url"])
                parts.append(
                    f'    <a class="button small" href="{url}" hx-get="{url}"'
                    f' hx-target="#alert-{pk}-form">{label}</a>\n'
                )
        parts.append(f'  </div>\n  <div id="alert-{pk}-form">{action_form}</div>\n')
    else:
        parts.append(
            f'  <p class="muted">Your role does not act on {escape(row["family"])} alerts.</p>\n'
        )
    parts.append("</article>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
