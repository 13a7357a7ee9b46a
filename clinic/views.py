from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import health
from clinic.permissions import Perm, requires


def home(request: HttpRequest) -> HttpResponse:
    return redirect(request.user.landing_url())  # type: ignore[union-attr]


@requires(Perm.SYSTEM_STATUS_VIEW)
@never_cache
def status(request: HttpRequest) -> HttpResponse:
    checks = health.all_checks(ping_workers=True)
    return render(
        request,
        "clinic/status.html",
        {
            "checks": checks,
            "all_ok": all(c.ok for c in checks),
            "stale_after": health.beat_stale_after(),
        },
    )


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness of the whole system: database, Redis, a live worker and a fresh beat."""
    checks = health.all_checks(ping_workers=True)
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "fail",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JsonResponse(body, status=200 if ok else 503)


@login_not_required
@require_GET
@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness of this web process (for the container health check): it answers and reaches
    the database. Workers and beat have their own checks, so a dead worker does not restart web."""
    check = health.check_database()
    return JsonResponse({"status": "ok" if check.ok else "fail"}, status=200 if check.ok else 503)
