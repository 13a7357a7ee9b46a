"""Server-side session limits and login enforcement that understands htmx."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

SESSION_STARTED = "myelin_session_started_at"
SESSION_LAST_SEEN = "myelin_session_last_seen_at"
# The idle clock is written back at most this often, so a page view does not rewrite the
# session row every time. The recorded moment can only lag behind real activity, so a
# session may end up to this much early, never late.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class SessionLimitsMiddleware:
    """Ends a session after SESSION_IDLE_TIMEOUT of inactivity or SESSION_ABSOLUTE_LIMIT overall.

    The limits are checked on the server on every request, so a stolen or forgotten cookie
    stops working whatever the browser does.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            started = _read(request.session.get(SESSION_STARTED))
            last_seen = _read(request.session.get(SESSION_LAST_SEEN))
            expired = (
                started is None
                or last_seen is None
                or now - last_seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_ABSOLUTE_LIMIT
            )
            if expired:
                logout(request)
                messages.info(request, "Your session timed out. Please sign in again.")
            elif not request.path.startswith("/healthz") and (
                last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION
            ):
                request.session[SESSION_LAST_SEEN] = now.isoformat()
        return self.get_response(request)


def start_session_clock(request: HttpRequest) -> None:
    now = timezone.now().isoformat()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_LAST_SEEN] = now


def _read(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class LoginRequiredHtmxMiddleware(LoginRequiredMiddleware):
    """Every view needs a signed-in user unless marked @login_not_required.

    For an htmx request the redirect is sent as HX-Redirect, so the browser goes to the login
    page instead of swapping a login form into whatever panel asked.
    """

    def handle_no_permission(self, request: HttpRequest, view_func: Callable) -> HttpResponse:  # type: ignore[override]
        login_url = resolve_url(self.get_login_url(view_func))
        if getattr(request, "htmx", False):
            current = request.htmx.current_url_abs_path or "/"  # type: ignore[attr-defined]
            response = redirect_to_login(
                current, login_url, self.get_redirect_field_name(view_func)
            )
            return HttpResponseClientRedirect(response["Location"])
        return redirect_to_login(
            request.get_full_path(), login_url, self.get_redirect_field_name(view_func)
        )


class MfaRequiredMiddleware:
    """A signed-in user who has not passed the TOTP step can only reach the MFA pages and sign-out."""

    EXEMPT_URL_NAMES = frozenset(
        {
            "accounts:login",
            "accounts:logout",
            "accounts:mfa_setup",
            "accounts:mfa_verify",
            "healthz",
            "healthz_live",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: object, view_kwargs: object
    ) -> HttpResponse | None:
        from clinic.accounts import mfa

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not mfa.mfa_required_for(user):  # type: ignore[arg-type]
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.EXEMPT_URL_NAMES:
            return None
        if request.path.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        ):
            return None
        if mfa.is_verified(request):
            return None
        target = "accounts:mfa_verify" if mfa.confirmed_device(user) else "accounts:mfa_setup"  # type: ignore[arg-type]
        url = resolve_url(target)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        from django.shortcuts import redirect

        return redirect(url)


class PasswordChangeRequiredMiddleware:
    """A user whose password an admin chose (a new account, a reset) reaches nothing but the
    change-password page, the two-step pages and sign-out until they choose their own."""

    EXEMPT_URL_NAMES = MfaRequiredMiddleware.EXEMPT_URL_NAMES | {"accounts:password_change"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: object, view_kwargs: object
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.must_change_password:  # type: ignore[union-attr]
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.EXEMPT_URL_NAMES:
            return None
        url = resolve_url("accounts:password_change")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return HttpResponseRedirect(url)
