"""The clinic admin's pages for users, roles and care teams.

Pages are for clinic admins only and never cached (a temporary password is on some of them).
Each POST goes through clinic.accounts.staff.services, which writes the access trail.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.access import ClinicRequest
from clinic.accounts.models import CareTeam, User
from clinic.accounts.staff import services
from clinic.accounts.staff.forms import CareTeamForm, UserForm, add_service_errors
from clinic.permissions import Perm, requires


def _admin_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return requires(Perm.USER_MANAGE)(never_cache(view))


@_admin_page
def user_list(request: ClinicRequest) -> HttpResponse:
    users = (
        User.objects.order_by("-is_active", "last_name", "first_name", "username")
        .annotate(has_mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .prefetch_related(Prefetch("care_teams", queryset=CareTeam.objects.order_by("name")))
    )
    return render(request, "staff/users.html", {"users": users})


@_admin_page
def user_new(request: ClinicRequest) -> HttpResponse:
    form = UserForm(request.POST or None, by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.create_user(
                username=form.cleaned_data["username"], account=form.account(), by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _show_password_once(request, user, password, created=True)
    return render(
        request,
        "staff/user_form.html",
        {"form": form, "subject": None},
        status=422 if form.errors else 200,
    )


@_admin_page
def user_edit(request: ClinicRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=user_id)
    form = UserForm(request.POST or None, instance=subject, by=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.update_user(user=subject, account=form.account(), by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if changes:
                messages.success(request, f"Saved the changes to {subject.display_name}.")
            else:
                messages.info(request, "Nothing was changed.")
            return redirect("staff:users")
    return render(
        request,
        "staff/user_form.html",
        {"form": form, "subject": subject},
        status=422 if form.errors else 200,
    )


@_admin_page
def user_password(request: ClinicRequest, user_id: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        password = services.reset_password(user=subject, by=request.user)
        return _show_password_once(request, subject, password, created=False)
    return render(request, "staff/user_password.html", {"subject": subject})


def _show_password_once(
    request: ClinicRequest, subject: User, password: str, *, created: bool
) -> HttpResponse:
    """The temporary password is in this response only: it is stored nowhere in clear, and the
    page is never cached, so going back to it shows nothing."""
    return render(
        request,
        "staff/temporary_password.html",
        {"subject": subject, "password": password, "created": created},
    )


@_admin_page
def team_list(request: ClinicRequest) -> HttpResponse:
    teams = CareTeam.objects.select_related("lead_neurologist").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("last_name", "first_name"))
    )
    return render(request, "staff/teams.html", {"teams": teams})


@_admin_page
def team_new(request: ClinicRequest) -> HttpResponse:
    return _team_form(request, None)


@_admin_page
def team_edit(request: ClinicRequest, team_id: int) -> HttpResponse:
    return _team_form(request, get_object_or_404(CareTeam, pk=team_id))


def _team_form(request: ClinicRequest, team: CareTeam | None) -> HttpResponse:
    form = CareTeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if team is None:
                services.create_team(
                    name=data["name"],
                    lead=data["lead_neurologist"],
                    members=data["members"],
                    by=request.user,
                )
            else:
                services.update_team(
                    team=team,
                    name=data["name"],
                    lead=data["lead_neurologist"],
                    members=data["members"],
                    by=request.user,
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved care team {data['name']}.")
            return redirect("staff:teams")
    return render(
        request,
        "staff/team_form.html",
        {"form": form, "team": team},
        status=422 if form.errors else 200,
    )
