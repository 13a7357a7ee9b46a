from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from clinic.accounts.models import CLINICAL_ROLES, CareTeam, Discipline, Role, User
from clinic.accounts.staff.services import Account

ADMIN_HOLDS_NO_TEAM = "A clinic admin cannot be in a care team."
ADMIN_HOLDS_NO_BREAK_GLASS = "A clinic admin cannot hold the break-glass right."


class UserForm(forms.Form):
    """An account as an admin sets it. For the admin's own account the fields that grant
    rights are shown but cannot be changed."""

    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and . _ - only; used to sign in. It cannot be changed later.",
    )
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(
        required=False, help_text="Alert emails and digests go here. Never a patient's."
    )
    role = forms.ChoiceField(choices=Role.choices)
    discipline = forms.ChoiceField(
        choices=[("", "—"), *Discipline.choices], required=False, help_text="Therapists only."
    )
    care_teams = forms.ModelMultipleChoiceField(
        queryset=CareTeam.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Clinicians see the patients of their care teams. A clinic admin has none.",
    )
    can_break_glass = forms.BooleanField(
        label="May use emergency access (break glass)",
        required=False,
        help_text="Opens a patient outside their teams for four hours, audited. Clinicians only.",
    )
    is_active = forms.BooleanField(
        label="Account active",
        required=False,
        initial=True,
        help_text="A deactivated account cannot sign in, and its sessions end at once.",
    )

    def __init__(self, *args: Any, instance: User | None = None, by: User, **kwargs: Any):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "first_name": instance.first_name,
                    "last_name": instance.last_name,
                    "email": instance.email,
                    "role": instance.role,
                    "discipline": instance.discipline,
                    "care_teams": [team.pk for team in instance.care_teams.all()],
                    "can_break_glass": instance.can_break_glass,
                    "is_active": instance.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is None:
            del self.fields["is_active"]  # a new account is active
        else:
            del self.fields["username"]
        if instance is not None and instance.pk == by.pk:
            for name in ("role", "care_teams", "can_break_glass", "is_active"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only another clinic admin can change this."

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("That username is taken.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role == Role.ADMIN:
            if data.get("care_teams"):
                self.add_error("care_teams", ADMIN_HOLDS_NO_TEAM)
            if data.get("can_break_glass"):
                self.add_error("can_break_glass", ADMIN_HOLDS_NO_BREAK_GLASS)
        if role == Role.THERAPIST and not data.get("discipline"):
            self.add_error("discipline", "A therapist needs a discipline.")
        if role and role != Role.THERAPIST and data.get("discipline"):
            self.add_error("discipline", "Only therapists have a discipline.")
        return data

    def account(self) -> Account:
        data = self.cleaned_data
        return Account(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            role=data["role"],
            discipline=data["discipline"],
            care_teams=frozenset(data["care_teams"]),
            can_break_glass=data["can_break_glass"],
            is_active=data.get("is_active", True),
        )


class ClinicianChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        inactive = "" if obj.is_active else ", inactive"
        return f"{obj.display_name} ({obj.role_label}{inactive})"


class NeurologistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return obj.display_name


class CareTeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    lead_neurologist = NeurologistChoiceField(
        queryset=User.objects.filter(role=Role.NEUROLOGIST, is_active=True).order_by(
            "last_name", "first_name"
        ),
        required=False,
        help_text="Receives escalations of unacknowledged critical alerts. Must be a member.",
    )
    members = ClinicianChoiceField(
        queryset=User.objects.filter(role__in=CLINICAL_ROLES).order_by("last_name", "first_name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Clinicians only: a clinic admin cannot be in a care team.",
    )

    def __init__(self, *args: Any, instance: CareTeam | None = None, **kwargs: Any):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "lead_neurologist": instance.lead_neurologist_id,
                    "members": [member.pk for member in instance.members.all()],
                },
            )
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = CareTeam.objects.filter(name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("A care team with this name already exists.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead, members = data.get("lead_neurologist"), data.get("members")
        if lead is not None and members is not None and lead not in members:
            self.add_error("lead_neurologist", "The lead neurologist must be a member of the team.")
        return data


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's or model's ValidationError next to the fields it names."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
