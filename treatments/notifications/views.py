"""The notifications page: what Myelin sent the signed-in clinician, and their digest."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.access import ClinicRequest, patient_page
from clinic.audit import services as audit
from clinic.audit.models import Category
from clinic.permissions import Perm, requires
from treatments.notifications import services
from treatments.notifications.forms import DigestPreferenceForm


@requires(Perm.NOTIFICATIONS_VIEW)
@patient_page  # the alerts' titles are clinical: never cached
@require_http_methods(["GET", "POST"])
def page(request: ClinicRequest) -> HttpResponse:
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST)
        if form.is_valid():
            services.save_preference(
                user=request.user,
                digest_hour=form.cleaned_data["digest_hour"],
                included_kinds=form.cleaned_data["included_kinds"],
            )
            messages.success(request, "Digest settings saved.")
            return redirect("notifications:page")
    else:
        form = DigestPreferenceForm(initial=services.preference_initial(request.user))
    sent = services.sent_to(request.user)
    # The emails name no patient, but the alerts they are about are patients' alerts.
    patient_ids = {e.alert.patient_id for e in sent.emails} | {a.patient_id for a in sent.escalated}
    audit.record_list(user=request.user, patient_ids=patient_ids, category=Category.ALERT)
    status = 422 if form.is_bound else 200
    return render(request, "alerts/notifications.html", {"form": form, "sent": sent}, status=status)
