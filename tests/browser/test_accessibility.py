"""Every role's day, page by page, in Chromium: axe-core finds no serious or critical
accessibility problem, the console stays clean (no script error, no Content-Security-Policy
violation, htmx swaps included), and at a phone's width (390 px) no page is wider than the
screen.

The pages are each role's main path plus every page its navigation bar links to, walked with
one of everything on record for Alice (tests/security/world.py). axe-core comes bundled with
axe-playwright-python: nothing is fetched from a CDN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.security.world import Side, all_routes, build_side

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
# WCAG 2.1 A and AA and axe's best practices; only what axe grades serious or critical fails.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}
BLOCKING = {"serious", "critical"}
ROUTES = dict(all_routes())

# Reports every Content-Security-Policy violation the page sees to the test (the binding
# survives navigation; an init script runs before the page's own scripts).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
"""


@dataclass
class Console:
    """What the browser said while the test walked: console errors and warnings, uncaught
    script errors, CSP violations."""

    messages: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return list(self.messages)


@pytest.fixture
def console(page: Page) -> Console:
    seen = Console()
    page.expose_binding(
        "reportCspViolation", lambda source, text: seen.messages.append(f"CSP: {text}")
    )
    page.add_init_script(_CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            seen.messages.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.messages.append(f"script error: {error}"))
    return seen


@pytest.fixture
def alice(patient_a: Any, neurologist: Any) -> Side:
    """Alice with a planned ocrelizumab course, an overdue liver test, a result, baclofen, a
    referral to physiotherapy, an open alert, a held lab message and a questionnaire link."""
    return build_side(patient_a, neurologist, "a11y")


def url(name: str, side: Side) -> str:
    """The route's URL, with the arguments it takes from Alice's record."""
    takes = ROUTES[name].pattern.converters  # type: ignore[attr-defined]
    return reverse(
        name, kwargs={key: value for key, value in side.kwargs().items() if key in takes}
    )


def nav_links(page: Page) -> list[str]:
    return page.locator("nav[aria-label=Main] a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )


def goto(page: Page, base: str, path: str) -> None:
    """Open the page (it must answer 200) and let htmx load its panels."""
    response = page.goto(f"{base}{path}")
    assert response is not None, path
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("networkidle")


def audit(page: Page, base: str, path: str) -> list[str]:
    """Open the page and return axe's serious and critical findings as readable lines."""
    goto(page, base, path)
    results = AXE.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        found.append(f"{path}: {violation['id']} ({violation['impact']}) at {targets}")
    return found


def walk(page: Page, base: str, paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in dict.fromkeys([*paths, *nav_links(page)]):
        found += audit(page, base, path)
    return found


def test_the_neurologists_day_passes_axe_with_a_clean_console(
    alice: Side, neurologist: Any, sign_in_as: Any, page: Page, console: Console, live_server: Any
) -> None:
    sign_in_as(neurologist)
    paths = [
        reverse("caseload:page"),
        url("patients:detail", alice),
        url("patients:edit", alice),
        url("patients:edss_add", alice),
        url("patients:relapse_add", alice),
        url("patients:mri_add", alice),
        url("patients:course_add", alice),
        url("treatments:patient", alice),
        url("treatments:plan", alice),
        url("treatments:plan_new", alice),
        url("treatments:plan_history", alice),
        url("treatments:symptomatic_new", alice),
        url("treatments:summary", alice),
        url("safety:side_effects", alice),
        url("safety:pml", alice),
        url("referrals:patient", alice),
        url("referrals:new", alice),
        url("referrals:detail", alice),
        url("pro:send", alice),
        url("pro:link", alice),
        reverse("alerts:inbox"),
        f"{reverse('alerts:inbox')}?alert={alice.alert.pk}",
        url("treatments:drug", alice),
        reverse("accounts:profile"),
        reverse("accounts:password_change"),
        reverse("accounts:token_new"),
    ]
    assert walk(page, live_server.url, paths) == []
    assert console.problems() == []


def test_the_nurses_day_passes_axe_with_a_clean_console(
    alice: Side, nurse: Any, sign_in_as: Any, page: Page, console: Console, live_server: Any
) -> None:
    sign_in_as(nurse)
    worklist = reverse("treatments:worklist")
    paths = [
        worklist,
        f"{worklist}?tab=overdue",
        f"{worklist}?tab=results",
        url("treatments:item", alice),
        url("treatments:result_new", alice),
        f"{url('treatments:result_new', alice)}?item={alice.item.pk}",
        reverse("alerts:inbox"),
        url("labimport:review", alice),
        url("patients:detail", alice),
    ]
    assert walk(page, live_server.url, paths) == []
    assert console.problems() == []


def test_the_therapists_day_passes_axe_with_a_clean_console(
    alice: Side, therapist: Any, sign_in_as: Any, page: Page, console: Console, live_server: Any
) -> None:
    sign_in_as(therapist)
    paths = [
        reverse("referrals:board"),
        url("referrals:detail", alice),
        url("rehab:patient", alice),
        url("rehab:new_session", alice),
        url("rehab:new_plan", alice),
    ]
    assert walk(page, live_server.url, paths) == []
    assert console.problems() == []


def test_the_admins_day_passes_axe_with_a_clean_console(
    alice: Side, cast: Any, sign_in_as: Any, page: Page, console: Console, live_server: Any
) -> None:
    sign_in_as(cast["admin"])
    nurse = cast["nurse"]
    team = nurse.care_teams.first()
    paths = [
        reverse("clinic:status"),
        reverse("staff:users"),
        reverse("staff:user_new"),
        reverse("staff:user_edit", kwargs={"user_id": nurse.pk}),
        reverse("staff:teams"),
        reverse("staff:team_new"),
        reverse("staff:team_edit", kwargs={"team_id": team.pk}),
        reverse("audit:report"),
        reverse("treatments:catalogue"),
        reverse("treatments:settings"),
        reverse("treatments:reference_ranges"),
        reverse("treatments:golive"),
        reverse("labimport:upload"),
        reverse("labimport:codes"),
        reverse("labimport:messages"),
    ]
    assert walk(page, live_server.url, paths) == []
    assert console.problems() == []


def test_the_sign_in_page_passes_axe(page: Page, console: Console, live_server: Any) -> None:
    assert audit(page, live_server.url, reverse("accounts:login")) == []
    assert console.problems() == []


def test_htmx_swaps_raise_no_console_error_or_csp_violation(
    alice: Side, nurse: Any, sign_in_as: Any, page: Page, console: Console, live_server: Any
) -> None:
    sign_in_as(nurse)
    # The patient page loads its panels and timeline by htmx.
    page.goto(f"{live_server.url}{url('patients:detail', alice)}")
    page.wait_for_load_state("networkidle")
    # The worklist swaps a row in place when a test is booked.
    page.goto(f"{live_server.url}{reverse('treatments:worklist')}?tab=overdue")
    row = page.locator(f"#item-{alice.item.pk}")
    row.locator("input[type=date]").fill("2099-01-01")
    row.get_by_role("button", name="Book").click()
    expect(row.get_by_role("button", name="Rebook")).to_be_visible()
    # The alert inbox swaps the alert when it is acknowledged.
    page.goto(f"{live_server.url}{reverse('alerts:inbox')}")
    page.get_by_role("button", name="Acknowledge").first.click()
    page.wait_for_load_state("networkidle")
    assert console.problems() == []


PHONE = {"width": 390, "height": 844}
# The outermost elements that reach past the screen's right edge, to name in a failure.
_WIDEST = """
(limit) => {
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > limit + 1 && !clipped(el))
    .slice(-3)
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join(".")} ${el.id}`)
    .join(", ");
}
"""


def overflow(page: Page, base: str, path: str, width: int) -> str | None:
    goto(page, base, path)
    # The body may not be wider than the screen: a wide table scrolls inside its own box.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width <= width:
        return None
    culprits = page.evaluate(_WIDEST, width)
    return f"{path}: {scroll_width}px wide ({culprits})"


# A reason pasted with a long link and a run of characters: one "word" of 380 characters.
LONG_REASON = "See https://example.org/" + "a" * 250 + " then " + "Z" * 120


@pytest.fixture
def long_reason(alice: Side) -> Side:
    alice.referral.reason = LONG_REASON
    alice.referral.save(update_fields=["reason"])
    return alice


def test_at_a_phones_width_no_page_is_wider_than_the_screen(
    long_reason: Side, neurologist: Any, sign_in_as: Any, page: Page, live_server: Any
) -> None:
    alice = long_reason
    page.set_viewport_size(PHONE)
    sign_in_as(neurologist)
    paths = [
        reverse("caseload:page"),
        reverse("patients:list"),
        url("patients:detail", alice),
        url("treatments:patient", alice),
        url("treatments:plan", alice),
        url("treatments:summary", alice),
        url("treatments:drug", alice),
        url("safety:side_effects", alice),
        url("referrals:detail", alice),
        reverse("referrals:board") + "?view=sent",
        reverse("alerts:inbox"),
        reverse("treatments:worklist") + "?tab=overdue",
        reverse("quality:dashboard"),
    ]
    wide, findings = [], []
    for path in paths:
        if problem := overflow(page, live_server.url, path, PHONE["width"]):
            wide.append(problem)
        # A table that scrolls sideways must be reachable from the keyboard too.
        findings += audit(page, live_server.url, path)
    assert wide == []
    assert findings == []


def test_a_long_word_wraps_instead_of_widening_the_page(
    long_reason: Side, neurologist: Any, sign_in_as: Any, page: Page, live_server: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in_as(neurologist)
    board = reverse("referrals:board") + "?view=sent"
    detail = url("referrals:detail", long_reason)
    wide = [
        problem
        for path in (board, detail)
        if (problem := overflow(page, live_server.url, path, 1280))
    ]
    assert wide == []
    expect(page.get_by_text(LONG_REASON[:40])).to_be_visible()


def test_the_axe_check_finds_a_missing_label(page: Page, live_server: Any) -> None:
    """The walk above is only worth something if axe really runs: a sign-in page whose
    password label is removed must fail it."""
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    page.locator("label[for=id_password]").evaluate("label => label.remove()")
    results = AXE.run(page, options=AXE_OPTIONS)
    assert "label" in {violation["id"] for violation in results.response["violations"]}


def test_the_console_watch_reports_a_csp_violation(
    page: Page, console: Console, live_server: Any
) -> None:
    """The console checks above are only worth something if a violation is seen: an inline
    style attribute, refused by the policy (style-src 'self'), is reported."""
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)
    assert any(problem.startswith("CSP: style-src") for problem in console.problems())
