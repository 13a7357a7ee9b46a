"""Forms: input checks with a message next to each field. Workflows live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.accounts.models import CareTeam, Role, User
from clinic.forms import DateField, PatientDatesMixin
from patients.edss import (
    AMBULATION_LABELS,
    FS_NAMES,
    FS_ORDER,
    FS_RANGES,
    EdssInputError,
    EdssResult,
    calculate_edss,
    check_score,
)
from patients.models import (
    FS_CHOICES,
    CourseState,
    DiseaseCourse,
    MriStudy,
    Patient,
    PregnancyStatus,
    Relapse,
    Sex,
)


def _not_future(value: Any, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(f"{what} cannot be in the future.", code="future")


# ---------------------------------------------------------------------------------------------
# Patient record
# ---------------------------------------------------------------------------------------------


class PatientForm(forms.ModelForm):
    """Create or edit a patient. The care team is one of the user's own; the named
    neurologist and nurse must belong to that team with that role."""

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "phone",
            "email",
            "address",
            "status",
            "diagnosis_on",
            "care_team",
            "neurologist",
            "nurse",
            "pregnancy_status",
            "smoking_status",
            "comorbidities",
            "allergies",
        ]
        field_classes = {"date_of_birth": DateField, "diagnosis_on": DateField}
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "comorbidities": forms.Textarea(attrs={"rows": 2}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
        }

    # Shown (as a checkbox) only with a "possible duplicate" warning.
    duplicate_confirmed = forms.BooleanField(
        label="This is a different person: save the record",
        required=False,
        widget=forms.HiddenInput(),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.possible_duplicates: list[Patient] = []
        teams = CareTeam.objects.filter(members=user)
        team_field = self.fields["care_team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams
        team_field.empty_label = None
        members = User.objects.filter(care_teams__in=teams, is_active=True).distinct()
        for name, role in (("neurologist", Role.NEUROLOGIST), ("nurse", Role.NURSE)):
            choice = self.fields[name]
            assert isinstance(choice, forms.ModelChoiceField)
            choice.queryset = members.filter(role=role).order_by("last_name", "first_name")
        if self.instance.pk is None and user.is_neurologist:
            self.initial.setdefault("neurologist", user.pk)
        if self.instance.pk is None and user.is_nurse:
            self.initial.setdefault("nurse", user.pk)

    def clean_mrn(self) -> str:
        return self.cleaned_data["mrn"].replace(" ", "").upper()

    def clean_date_of_birth(self) -> Any:
        value = self.cleaned_data["date_of_birth"]
        _not_future(value, "The date of birth")
        return value

    def clean_diagnosis_on(self) -> Any:
        value = self.cleaned_data.get("diagnosis_on")
        _not_future(value, "The diagnosis date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team = data.get("care_team")
        born, diagnosed = data.get("date_of_birth"), data.get("diagnosis_on")
        pregnancy = data.get("pregnancy_status")
        if (
            data.get("sex") == Sex.MALE
            and pregnancy
            and pregnancy != PregnancyStatus.NOT_APPLICABLE
        ):
            self.add_error(
                "pregnancy_status",
                "A male patient's pregnancy status is “Not applicable”.",
            )
        self._check_duplicates(data)
        if born and diagnosed and diagnosed < born:
            self.add_error("diagnosis_on", "The diagnosis date cannot be before the birth date.")
        if team is not None:
            for name, label in (("neurologist", "neurologist"), ("nurse", "nurse")):
                person = data.get(name)
                if person is not None and not person.care_teams.filter(pk=team.pk).exists():
                    self.add_error(name, f"This {label} is not a member of {team.name}.")
        return data

    def _check_duplicates(self, data: dict[str, Any]) -> None:
        """A patient with the same names and date of birth among those the user may see: a
        warning with a link to each, saved only once the user confirms it is someone else.
        Asked when a record is created, or when its names or date of birth change."""
        identity = {"given_name", "family_name", "date_of_birth"}
        if not all(data.get(name) for name in identity):
            return
        if self.instance.pk is not None and not identity & set(self.changed_data):
            return
        self.possible_duplicates = list(
            Patient.objects.visible_to(self.user)
            .same_person_as(
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
            )
            .exclude(pk=self.instance.pk)
            .order_by("family_name", "given_name")[:5]
        )
        if self.possible_duplicates and not data.get("duplicate_confirmed"):
            self.fields["duplicate_confirmed"].widget = forms.CheckboxInput()
            self.add_error(
                "duplicate_confirmed",
                "Possible duplicate: a patient with the same name and date of birth is already "
                "recorded (listed above). Open it to check, or confirm this is a different "
                "person.",
            )


# ---------------------------------------------------------------------------------------------
# Clinical records. Each form's `clean` leaves the service's own checks (dates, overlaps) to
# the service: the view passes service errors back onto the form with `add_error`.
# ---------------------------------------------------------------------------------------------


class CourseStateForm(PatientDatesMixin, forms.ModelForm):
    class Meta:
        model = CourseState
        fields = ["course", "start_on", "end_on", "note"]
        field_classes = {"start_on": DateField, "end_on": DateField}
        widgets = {
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = DiseaseCourse.choices  # type: ignore[attr-defined]

    def clean_start_on(self) -> Any:
        value = self.cleaned_data["start_on"]
        _not_future(value, "The start date")
        return value

    def clean_end_on(self) -> Any:
        value = self.cleaned_data.get("end_on")
        _not_future(value, "The end date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", "The end date cannot be before the start date.")
        return data

    def validate_constraints(self, exclude: Any = None) -> None:
        # The one-open-state and overlap rules need the previous state closed first, which the
        # service does; checking the constraint here would refuse every course change.
        pass


AMBULATION_CHOICES = [(score, f"{score}: {label}") for score, label in AMBULATION_LABELS.items()]


class EdssForm(PatientDatesMixin, forms.Form):
    """The seven FS grades and the ambulation score; `result` holds the computed step."""

    assessed_on = DateField(label="Assessment date")
    ambulation = forms.TypedChoiceField(
        label="Ambulation score", choices=AMBULATION_CHOICES, coerce=int, initial=0
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("assessed_on", timezone.localdate())
        for name in reversed(FS_ORDER):
            low, high = FS_RANGES[name]
            self.fields[name] = forms.IntegerField(
                label=FS_NAMES[name],
                initial=0,
                help_text=f"{low} to {high}",
                # No min/max on the input: the calculator's own message names the range.
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "fs-score"}),
            )
        self.order_fields(["assessed_on", *FS_ORDER, "ambulation"])
        self.result: EdssResult | None = None

    def clean_assessed_on(self) -> Any:
        value = self.cleaned_data["assessed_on"]
        _not_future(value, "The assessment date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scores = {name: data.get(name) for name in (*FS_ORDER, "ambulation")}
        valid = True
        for name, value in scores.items():
            if value is None:
                valid = False  # missing or not a number: the field already has its message
                continue
            try:  # each score on its own, so every invalid grade is reported at once
                check_score(name, value)
            except EdssInputError as error:
                self.add_error(error.field, str(error))
                valid = False
        if valid:
            self.result = calculate_edss(**scores)  # type: ignore[arg-type]
        return data

    @property
    def scores(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in (*FS_ORDER, "ambulation")}

    def preview(self) -> EdssResult | None:
        """The step for whatever valid scores are entered so far (the date may be missing)."""
        self.is_valid()
        return self.result


class RelapseForm(PatientDatesMixin, forms.ModelForm):
    functional_systems = forms.MultipleChoiceField(
        label="Functional systems involved",
        choices=FS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Relapse
        fields = [
            "onset_on",
            "end_on",
            "symptoms",
            "functional_systems",
            "severity",
            "objectively_confirmed",
            "infection_excluded",
            "recovery",
            "treatment",
        ]
        field_classes = {"onset_on": DateField, "end_on": DateField}
        widgets = {
            "symptoms": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_onset_on(self) -> Any:
        value = self.cleaned_data["onset_on"]
        _not_future(value, "The onset")
        return value

    def clean_end_on(self) -> Any:
        value = self.cleaned_data.get("end_on")
        _not_future(value, "The end date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        onset, end = data.get("onset_on"), data.get("end_on")
        if onset and end and end < onset:
            self.add_error("end_on", "The end date cannot be before the onset.")
        return data


class MriForm(PatientDatesMixin, forms.ModelForm):
    class Meta:
        model = MriStudy
        fields = [
            "study_on",
            "field_strength",
            "contrast_given",
            "new_or_enlarging_t2",
            "gad_enhancing",
            "is_baseline",
            "report",
        ]
        field_classes = {"study_on": DateField}
        widgets = {
            "new_or_enlarging_t2": forms.NumberInput(attrs={"min": 0}),
            "gad_enhancing": forms.NumberInput(attrs={"min": 0}),
            "report": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_study_on(self) -> Any:
        value = self.cleaned_data["study_on"]
        _not_future(value, "The scan date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contrast, gad = data.get("contrast_given"), data.get("gad_enhancing")
        if gad is not None and not contrast:
            self.add_error(
                "gad_enhancing",
                "Enhancing lesions can only be counted on a scan with gadolinium.",
            )
        elif contrast and gad is None and "gad_enhancing" not in self.errors:
            self.add_error(
                "gad_enhancing", "Gadolinium was given: enter the number of enhancing lesions."
            )
        return data


# ---------------------------------------------------------------------------------------------
# Caseload filters
# ---------------------------------------------------------------------------------------------
