from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from clinic.accounts.middleware import start_session_clock
from clinic.audit import services as audit
from clinic.audit.models import Action, Category

# One message for every failed sign-in, so an unknown user and a wrong password look alike.
FAILED_LOGIN_MESSAGE = "That username and password do not match an active account."


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": FAILED_LOGIN_MESSAGE,
        "inactive": FAILED_LOGIN_MESSAGE,
    }


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)  # login() rotates the session id
        start_session_clock(self.request)
        audit.record(user=form.get_user(), action=Action.LOGIN, category=Category.ACCOUNT)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit.record(user=request.user, action=Action.LOGOUT, category=Category.ACCOUNT)  # type: ignore[arg-type]
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {"teams": request.user.care_teams.all()})  # type: ignore[union-attr]


def lockout(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this once an address or username has too many failures."""
    form = SignInForm(request)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_out": True,
        },
        status=429,
    )
