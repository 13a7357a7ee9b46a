"""Property-based fuzzing of every form: whatever is typed, the server never errors.

For every page that shows a POST form, the field names are read from the page itself, so a new
field is fuzzed without anyone listing it; hypothesis then posts random, hostile and malformed
values (huge strings, unicode, numbers out of range, impossible dates, missing fields) and every
answer must be a page or a redirect — never a server error. The inputs issue #13 found to give
server errors (`BAD_VALUES`) are also posted, each into every field of every form, every time.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.test_access_matrix import GLOBAL, PATIENT, ROUTES, staff_objects, url_for
from tests.security.world import build_side

FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', re.I)
FORM = re.compile(r"<form([^>]*)>(.*?)</form>", re.I | re.S)
ACTION = re.compile(r'\saction="([^"]*)"', re.I)
SKIP = {"accounts:logout", "accounts:login", "audit:export", "quality:export"}

# Issue #13, finding 7: each of these once answered with a server error somewhere.
BAD_VALUES = [
    "0001-01-01",  # a date before 1900 (broke the patient page's chart once stored)
    "\x00",  # PostgreSQL refuses NUL in text
    "9" * 30,  # a page number or count beyond any integer column
    "9" * 5000,  # beyond what int() parses
    "²",  # isdigit() but not int()
    "٣",  # a non-ASCII digit
    "x" * 300,  # longer than the sign-in log's username column
    "http://[",  # a malformed URL (next)
    "//evil.example/",  # a scheme-relative URL to another site (next)
]
# The lists with a search box or pages, and what was typed into their query strings.
LIST_PAGES = [
    "/patients/",
    "/patients/caseload/",
    "/alerts/",
    "/referrals/",
    "/treatments/worklist/",
    "/audit/",
]
QUERY_VALUES = ["\x00", "9" * 30, "9" * 5000, "²", "٣", "-1", "x" * 300]

values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "9999-99-99",
            "2026-02-30",
            "1e309",
            "NaN",
            "on",
            "null",
            "\x00",
            "<script>",
        ]
    ),
    st.sampled_from(BAD_VALUES),
)


def form_targets(client, side, staff) -> list[tuple[str, list[str]]]:
    targets = []
    for name, (kind, _) in sorted(ROUTES.items()):
        if kind not in (GLOBAL, PATIENT) or name in SKIP:
            continue
        url = url_for(name, side if kind == PATIENT else None, staff)
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # a page with no forms (a PDF, a CSV export)
        html = response.content.decode()
        for attributes, inner in FORM.findall(html):
            if 'method="post"' not in attributes.lower():
                continue
            found = ACTION.search(attributes)
            action = found.group(1) if found and found.group(1) else url
            fields = sorted({f for f in FIELD.findall(inner) if f != "csrfmiddlewaretoken"})
            if fields and action.startswith("/") and "logout" not in action:
                targets.append((action, fields))
    return sorted(set((a, tuple(f)) for a, f in targets))  # type: ignore[misc]


@pytest.mark.parametrize("role", ["neurologist", "nurse", "therapist", "admin"])
def test_no_form_answers_random_input_with_a_server_error(
    role, cast, patient_a, patient_b, signed_in
):
    side = build_side(patient_a, cast["neurologist"], "a")
    build_side(patient_b, cast["other_neurologist"], "b")
    client = signed_in(cast[role])
    client.raise_request_exception = False
    targets = form_targets(client, side, staff_objects(cast, patient_a.care_team_id))
    assert len(targets) >= {"neurologist": 15, "nurse": 10, "therapist": 3, "admin": 2}[role]

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        for action, fields in targets:
            chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
            payload = {name: data.draw(values) for name in chosen}
            response = client.post(action, payload)
            assert response.status_code < 500, (
                f"{action} answered {response.status_code} to {payload!r}"
            )

    fuzz()


@pytest.mark.parametrize("role", ["neurologist", "nurse", "therapist", "admin"])
def test_no_form_answers_the_issues_bad_values_with_a_server_error(
    role, cast, patient_a, patient_b, signed_in
):
    side = build_side(patient_a, cast["neurologist"], "a")
    client = signed_in(cast[role])
    client.raise_request_exception = False
    targets = form_targets(client, side, staff_objects(cast, patient_a.care_team_id))
    for action, fields in targets:
        for value in BAD_VALUES:
            response = client.post(action, {name: value for name in fields})
            assert response.status_code < 500, f"{action} answered {response.status_code}"
    for path in LIST_PAGES:
        for value in QUERY_VALUES:
            response = client.get(path, {"q": value, "page": value})
            assert response.status_code < 500, f"{path} answered {response.status_code}"
