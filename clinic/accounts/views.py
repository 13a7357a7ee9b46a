from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from clinic.access import ClinicRequest, safe_next
from clinic.accounts import mfa, services, tokens
from clinic.accounts.middleware import start_session_clock
from clinic.accounts.models import ApiToken
from clinic.audit import services as audit
from clinic.audit.models import Action, Category
from clinic.permissions import Perm, requires

# One message for every failed sign-in, so an unknown user and a wrong password look alike.
FAILED_LOGIN_MESSAGE = "That username and password do not match an active account."


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": FAILED_LOGIN_MESSAGE,
        "inactive": FAILED_LOGIN_MESSAGE,
    }

    def clean_username(self) -> str:
        # AuthenticationForm sets the field's max_length after building it, so Django never
        # checks it; a longer name would reach the sign-in log (django-axes, 255 characters)
        # and fail there with a server error.
        username: str = self.cleaned_data["username"]
        limit = self.fields["username"].max_length  # type: ignore[attr-defined]
        if len(username) > limit:
            raise forms.ValidationError(f"A username has at most {limit} characters.")
        return username


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)  # login() rotates the session id
        user = form.get_user()
        start_session_clock(self.request)
        services.track_session(request=self.request, user=user)
        audit.record(user=user, action=Action.LOGIN, category=Category.ACCOUNT)
        if mfa.mfa_required_for(user):
            step = "accounts:mfa_verify" if mfa.confirmed_device(user) else "accounts:mfa_setup"
            return HttpResponseRedirect(f"{resolve_url(step)}?next={self.get_success_url()}")
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        response = super().post(request, *args, **kwargs)
        if user.is_authenticated:
            audit.record(user=user, action=Action.LOGOUT, category=Category.ACCOUNT)  # type: ignore[arg-type]
            # Signing out on one device signs out everywhere (a shared clinic PC, a lost phone).
            services.end_all_sessions(user=user)  # type: ignore[arg-type]
        return response


class NewPasswordForm(PasswordChangeForm):
    def clean_new_password2(self) -> str:
        password = self.cleaned_data.get("new_password2", "")
        if password and self.user.check_password(password):
            raise forms.ValidationError("Choose a password different from your current one.")
        return password


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = NewPasswordForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["required"] = self.request.user.must_change_password  # type: ignore[union-attr]
        return context

    def get_success_url(self) -> str:
        return self.request.user.landing_url()  # type: ignore[union-attr]

    def form_valid(self, form: Any) -> HttpResponse:
        form.user.must_change_password = False  # saved with the new password
        response = super().form_valid(form)  # keeps this session, ends the user's others
        audit.record(
            user=form.user,
            action=Action.UPDATE,
            category=Category.ACCOUNT,
            detail="password changed",
        )
        messages.success(self.request, "Your password has been changed.")
        return response


def profile(request: ClinicRequest) -> HttpResponse:
    context = {"teams": request.user.care_teams.all(), "tokens": tokens.tokens_of(request.user)}
    return render(request, "accounts/profile.html", context)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="What is it for?",
        max_length=80,
        help_text="For example: registry upload. Shown only to you.",
    )
    lifetime_days = forms.TypedChoiceField(
        label="Valid for",
        coerce=int,
        choices=[(days, f"{days} days") for days in tokens.LIFETIMES],
        initial=tokens.LIFETIMES[0],
    )


@requires(Perm.FHIR_EXPORT)
@never_cache  # the page that shows the secret must not be kept by a browser or proxy
def token_new(request: ClinicRequest) -> HttpResponse:
    """Create an API token for the FHIR endpoint; its secret is shown on this page only."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = tokens.create_token(
            user=request.user,
            name=form.cleaned_data["name"],
            lifetime_days=form.cleaned_data["lifetime_days"],
        )
        return render(request, "accounts/token_new.html", {"token": token, "secret": secret})
    return render(request, "accounts/token_new.html", {"form": form})


@require_POST
def token_revoke(request: ClinicRequest) -> HttpResponse:
    """Revoke one of your own tokens (anyone may: a token outlives a change of role)."""
    token = get_object_or_404(ApiToken, pk=_int(request.POST.get("token")), user=request.user)
    tokens.revoke_token(token=token, by=request.user)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("accounts:profile")


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


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


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("The code is 6 digits.")
        return token


def _next_url(request: HttpRequest) -> str:
    return safe_next(request, resolve_url("home"))


@never_cache  # the page shows the secret: no browser or proxy may keep a copy
def mfa_setup(request: ClinicRequest) -> HttpResponse:
    if mfa.confirmed_device(request.user):
        return redirect("accounts:mfa_verify")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.confirm_enrolment(request, request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit.record(
                user=request.user,
                action=Action.UPDATE,
                category=Category.ACCOUNT,
                detail="MFA device enrolled",
            )
            messages.success(request, "Two-step sign-in is set up.")
            return redirect(_next_url(request))
        if mfa.confirmed_device(request.user):
            return redirect("accounts:mfa_verify")
        form.add_error(
            "token",
            "That code did not match. Check the time on your phone and try the newest code.",
        )
    device = mfa.pending_device(request, request.user)
    context = {
        "form": form,
        "qr_svg": mfa.qr_svg(device),
        "manual_key": mfa.manual_key(device),
        "next": _next_url(request),
    }
    return render(request, "accounts/mfa_setup.html", context, status=422 if form.errors else 200)


@never_cache
def mfa_verify(request: ClinicRequest) -> HttpResponse:
    device = mfa.confirmed_device(request.user)
    if device is None:
        return redirect("accounts:mfa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "token",
            "That code did not match, or too many attempts: wait a moment and try the newest code.",
        )
    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": _next_url(request)},
        status=422 if form.errors else 200,
    )
