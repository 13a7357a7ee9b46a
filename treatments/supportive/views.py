"""Supportive care pages: a patient's plan (goals, reviews, readings), setting a goal, reviewing
one, and the care team's overdue reviews."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from clinic.access import ClinicRequest, patient_page
from clinic.audit import services as audit
from clinic.audit.access import get_scoped_or_404
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires
from patients.models import Patient
from treatments.models import SupportiveArea, SupportiveGoal, SupportiveReview
from treatments.supportive import forms
from treatments.supportive import services as supportive


def _plan_url(patient: Patient) -> str:
    return reverse("supportive:patient", kwargs={"external_id": patient.external_id})


@requires(Perm.PATIENT_VIEW)
@patient_page
def patient_plan(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request, Patient.objects, external_id=external_id, category=Category.SUPPORTIVE
    )
    today = timezone.localdate()
    active, closed = supportive.plan_rows(patient, today=today)
    reviews = list(
        SupportiveReview.objects.filter(patient=patient)
        .select_related("goal", "reviewed_by")
        .order_by("-reviewed_on", "-id")
    )
    covered = {row.goal.area for row in active}
    return render(
        request,
        "treatments/supportive.html",
        {
            "patient": patient,
            "rows": active,
            "closed": closed,
            "reviews": reviews,
            "uncovered": [a for a in SupportiveArea if a.value not in covered],
            "vitamin_d_result": supportive.latest_vitamin_d_result(patient),
            "today": today,
        },
    )


@requires(Perm.SUPPORTIVE_CARE_EDIT)
@patient_page
def goal_new(request: ClinicRequest, external_id: uuid.UUID) -> HttpResponse:
    patient = get_scoped_or_404(
        request,
        Patient.objects,
        external_id=external_id,
        category=Category.SUPPORTIVE,
        action=Action.CREATE if request.method == "POST" else Action.VIEW,
    )
    today = timezone.localdate()
    initial = {"started_on": today, "owner": request.user.pk, "screened_on": today}
    if request.GET.get("area") in SupportiveArea.values:
        initial["area"] = request.GET["area"]
    form = forms.GoalForm(request.POST or None, initial=initial, patient=patient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            supportive.set_goal(
                patient=patient,
                area=data["area"],
                goal=data["goal"],
                owner=data["owner"],
                started_on=data["started_on"],
                review_on=data["review_on"],
                note=data["note"],
                readings=form.readings(),
                by=request.user,
            )
        except supportive.SupportiveRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(request, "Goal set.")
            return redirect(_plan_url(patient))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "treatments/supportive_form.html",
        {"patient": patient, "form": form, "heading": "Set a supportive care goal"},
        status=status,
    )


@requires(Perm.PATIENT_VIEW, post=Perm.SUPPORTIVE_CARE_EDIT)
@patient_page
def goal(request: ClinicRequest, goal_id: int) -> HttpResponse:
    found: SupportiveGoal = get_scoped_or_404(
        request,
        SupportiveGoal.objects.select_related("patient", "owner"),
        category=Category.SUPPORTIVE,
        action=Action.UPDATE if request.method == "POST" else Action.VIEW,
        pk=goal_id,
    )
    patient = found.patient
    form = forms.ReviewForm(
        request.POST or None,
        initial={
            "reviewed_on": timezone.localdate(),
            "status": found.status,
            "supplementation": found.supplementation,
        },
        patient=patient,
        area=found.area,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            supportive.review_goal(
                goal=found,
                reviewed_on=data["reviewed_on"],
                status=data["status"],
                note=data["note"],
                next_review_on=data["next_review_on"],
                readings=form.readings(),
                by=request.user,
            )
        except supportive.SupportiveRefused as refused:
            form.add_refusal(refused.field, refused.message)
        else:
            messages.success(request, "Review recorded.")
            return redirect(_plan_url(patient))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "treatments/supportive_goal.html",
        {
            "patient": patient,
            "goal": found,
            "form": form,
            "reviews": list(found.reviews.select_related("reviewed_by").order_by("-reviewed_on")),
            "today": timezone.localdate(),
        },
        status=status,
    )


@requires(Perm.PATIENT_VIEW)
def overdue(request: ClinicRequest) -> HttpResponse:
    """Goals in progress past their review date, for the user's care teams (or their own)."""
    mine_only = request.GET.get("scope") != "team"
    today = timezone.localdate()
    goals = supportive.overdue_reviews_for(request.user, today=today, mine_only=mine_only)
    audit.record_list(
        user=request.user,
        patient_ids=sorted({goal.patient_id for goal in goals}),
        category=Category.SUPPORTIVE,
        detail="overdue supportive care reviews",
    )
    return render(
        request,
        "treatments/supportive_overdue.html",
        {"goals": goals, "today": today, "mine_only": mine_only},
    )
