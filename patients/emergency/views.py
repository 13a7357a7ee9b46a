"""Break-glass access: a pre-authorised clinician opens a patient outside their care teams."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from clinic import limits
from clinic.access import ClinicRequest
from clinic.permissions import Perm, requires
from patients.emergency import services


class EmergencyAccessForm(forms.Form):
    mrn = forms.CharField(label="MRN", max_length=12)
    reason = forms.CharField(
        label="Clinical reason",
        max_length=limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this patient needs you now. Recorded in the audit trail; the clinic "
        "admins are told.",
    )

    def clean_mrn(self) -> str:
        return self.cleaned_data["mrn"].replace(" ", "").upper()


@requires(Perm.BREAK_GLASS)
def emergency_access(request: ClinicRequest) -> HttpResponse:
    # The role may (the table); the person must also have been pre-authorised.
    if not services.may_break_glass(request.user):
        raise PermissionDenied("You are not authorised for emergency access.")
    form = EmergencyAccessForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            done = services.request_emergency_access(
                user=request.user,
                mrn=form.cleaned_data["mrn"],
                reason=form.cleaned_data["reason"],
            )
        except services.EmergencyAccessRefused as refused:
            form.add_error(refused.field, refused.message)
            status = 429 if refused.limit else 422
        else:
            # The same answer whether or not the MRN matched a patient: the form tells nobody
            # which MRNs exist. A matched patient is listed apart on the patient list.
            messages.warning(
                request,
                f"Emergency access requested for MRN {form.cleaned_data['mrn']}. If it is the "
                f"MRN of a patient outside your care teams, their record is open to you, "
                f"read-only, until {timezone.localtime(done.until):%H:%M}, and listed under "
                f"Emergency access below. If nobody is listed, check the MRN. Every request is "
                f"audited and the clinic admins are told; {done.left_today} more allowed within 24 hours.",
            )
            return redirect(reverse("patients:list") + "#emergency-access")
    elif form.errors:
        status = 422
    context = {"form": form, "per_day": settings.BREAK_GLASS_PER_DAY}
    return render(request, "patients/emergency.html", context, status=status)
