"""Sign-in throttling on top of django-axes, with one limit per kind of counter.

- Per username, and per username and address: AXES_FAILURE_LIMIT (5) failures in the cool-off
  lock that username (from anywhere, or from that address). A successful sign-in clears the
  user's own counters, so five typos spread over a morning do not lock a nurse out.
- Per address: LOGIN_ADDRESS_FAILURE_LIMIT (much higher) failures in the cool-off lock the
  address, whatever usernames were tried. One nurse's typos therefore do not lock out the rest
  of the ward behind the same address, while guessing many accounts from one address stops.
  This counter is a row per failure (SignInFailure) that nothing deletes on success: an
  attacker who signs in with their own account between guesses does not reset it.

Axes compares one number with one limit (`get_failures() >= AXES_FAILURE_LIMIT`), so an address
over its own limit counts as the full per-user limit there.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.http import HttpRequest

from clinic.accounts.models import SignInFailure


class ClinicAxesHandler(AxesDatabaseHandler):
    def user_login_failed(
        self, sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        if request is not None:
            # Counted before axes decides, so the failure that reaches the limit is refused too.
            at = request.axes_attempt_time  # type: ignore[attr-defined]
            SignInFailure.objects.filter(at__lt=at - settings.AXES_COOLOFF_TIME).delete()
            SignInFailure.objects.create(address=request.axes_ip_address, at=at)  # type: ignore[attr-defined]
        super().user_login_failed(sender, credentials, request, **kwargs)

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # The username and username-and-address counters (AXES_LOCKOUT_PARAMETERS).
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def address_failures(request: HttpRequest) -> int:
    at = request.axes_attempt_time  # type: ignore[attr-defined]
    return SignInFailure.objects.filter(
        address=request.axes_ip_address,  # type: ignore[attr-defined]
        at__gt=at - settings.AXES_COOLOFF_TIME,
    ).count()


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in came from (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT reverse proxies it is the address the outermost proxy saw: each
    proxy appends the address it received from to X-Forwarded-For, so that one is the
    TRUSTED_PROXY_COUNT-th entry from the right. Entries further left are whatever the client
    wrote and are ignored. Without proxies, or for a request that did not pass them all, it is
    the connection's own address.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
