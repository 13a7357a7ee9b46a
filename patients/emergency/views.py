"""Break-glass access: a pre-authorised clinician opens a patient outside their care teams."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinic.access import ClinicRequest
from clinic.permissions import Perm, requires
from patients.emergency import services
from patients.models import Patient


class EmergencyAccessForm(forms.Form):
    mrn = forms.CharField(label="MRN", max_length=12)
    reason = forms.CharField(
        label="Clinical reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit trail and sent to the clinic admins.",
    )

    def clean_mrn(self) -> str:
        return self.cleaned_data["mrn"].replace(" ", "").upper()


@requires(Perm.BREAK_GLASS)
def emergency_access(request: ClinicRequest) -> HttpResponse:
    # The role may (the table); the person must also have been pre-authorised.
    if not request.user.can_break_glass:
        raise PermissionDenied("You are not authorised for emergency access.")
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Deliberately outside visible_to(): this is the one audited way around it.
        patient = Patient.objects.filter(mrn=form.cleaned_data["mrn"]).first()
        if patient is None:
            form.add_error("mrn", "No patient has this MRN.")
        else:
            try:
                grant = services.grant_emergency_access(
                    user=request.user, patient=patient, reason=form.cleaned_data["reason"]
                )
            except ValueError as exc:
                form.add_error("reason", str(exc))
            else:
                messages.warning(
                    request,
                    f"Emergency access granted until {grant.expires_at:%H:%M}. This access is audited and the clinic admins have been told.",
                )
                return redirect(patient.get_absolute_url())
    return render(
        request, "patients/emergency.html", {"form": form}, status=422 if form.errors else 200
    )
