"""Headers a security review checks: CSP with a nonce, no sniffing, no framing, no caching of
patient pages, and no htmx history copy of them in the browser."""

from __future__ import annotations

import re

from tests.security.test_access_matrix import PATIENT, ROUTES, url_for
from tests.security.world import build_side


def test_every_patient_page_is_no_store_and_kept_out_of_htmx_history(cast, patient_a, signed_in):
    side = build_side(patient_a, cast["neurologist"], "a")
    client = signed_in(cast["neurologist"])
    checked = 0
    for name, (kind, _) in sorted(ROUTES.items()):
        if kind != PATIENT:
            continue
        response = client.get(url_for(name, side))
        if response.status_code != 200:
            continue
        checked += 1
        assert "no-store" in response.get("Cache-Control", ""), name
        if not response["Content-Type"].startswith("text/html"):
            continue  # the summary PDF: no-store, and no htmx history to keep
        if "<body" in response.content.decode():
            assert 'hx-history="false"' in response.content.decode(), name
    assert checked >= 10


def test_pages_carry_the_security_headers(signed_in, neurologist):
    response = signed_in(neurologist).get("/patients/caseload/")
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce, "script-src needs a nonce"
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert f'nonce="{nonce.group(1)}"' in response.content.decode()  # htmx is loaded with it
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert 'historyCacheSize": 0' in response.content.decode()


def test_session_and_csrf_cookies_are_http_only_and_same_site(client, neurologist):
    from tests.factories import TEST_PASSWORD

    response = client.post(
        "/accounts/login/", {"username": neurologist.username, "password": TEST_PASSWORD}
    )
    session = response.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
