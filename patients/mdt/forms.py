"""MDT forms: the shape of the input. The services decide (team, dates against the meeting) and
their refusals are put back at the field they name (`add_refusal`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from clinic.accounts.models import CareTeam, User
from clinic.forms import DateField
from patients.models import MdtMeeting


class RefusalMixin:
    def add_refusal(self, field: str, message: str) -> None:
        target = field if field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(target, message)  # type: ignore[attr-defined]


class _PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.role_label})"


class _PeopleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.role_label})"


class MeetingForm(RefusalMixin, forms.Form):
    care_team = forms.ModelChoiceField(queryset=CareTeam.objects.none(), empty_label=None)
    held_on = DateField(label="Date of the meeting")
    title = forms.CharField(max_length=120, initial="MDT meeting")
    attendees = _PeopleChoice(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Members of the care team who attend.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = user.care_teams.order_by("name")
        self.fields["care_team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["attendees"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(care_teams__in=teams, is_active=True)
            .exclude(role="admin")
            .distinct()
            .order_by("last_name", "first_name", "username")
        )


class CaseForm(RefusalMixin, forms.Form):
    meeting = forms.ModelChoiceField(
        queryset=MdtMeeting.objects.none(),
        empty_label=None,
        help_text="The coming meetings of the patient's care team.",
    )
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="What the team is asked to decide.",
    )

    def __init__(self, *args: Any, meetings: Iterable[MdtMeeting], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["meeting"]
        field.queryset = meetings  # type: ignore[attr-defined]
        field.label_from_instance = lambda m: f"{m.held_on:%d %b %Y} · {m.title}"  # type: ignore[attr-defined]


class OutcomeForm(RefusalMixin, forms.Form):
    discussion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=8000, required=False
    )
    decision = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ActionForm(RefusalMixin, forms.Form):
    description = forms.CharField(max_length=300, label="Action")
    assigned_to = _PersonChoice(queryset=User.objects.none(), label="Who")
    due_on = DateField(label="Due")

    def __init__(self, *args: Any, team_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(care_teams=team_id, is_active=True)
            .exclude(role="admin")
            .order_by("last_name", "first_name", "username")
        )


class DoneForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
