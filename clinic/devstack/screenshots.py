"""Re-take the README's screenshots from a running demo clinic (`make run` in another terminal).

    .venv/bin/python -m clinic.devstack.screenshots [http://127.0.0.1:8000]

Signs in as the demo users the README names and saves one PNG per tour stop under
clinic/static/docs/. A page that does not answer 200 is reported and skipped, so a missing demo
account or a renamed page shows up here rather than as a stale picture.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "clinic" / "static" / "docs"
PASSWORD = os.environ.get("MYELIN_DEMO_PASSWORD", "myelin-demo-2026")


@dataclass(frozen=True)
class Shot:
    name: str
    user: str
    path: str
    # A link to follow from `path` (its visible text), for pages whose address holds an id.
    follow: str = ""
    full_page: bool = False


TOUR = [
    Shot("caseload", "dr.okafor", "/"),
    Shot("patient", "dr.okafor", "/", follow="tbody a"),
    Shot("worklist", "nurse.patel", "/"),
    Shot("alerts", "dr.okafor", "/alerts/?layout=compact"),
    Shot("notifications", "dr.okafor", "/notifications/"),
    Shot("referrals", "physio.lindqvist", "/"),
    Shot("status", "admin.chen", "/"),
]


def take(base: str) -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or None)
        for shot in TOUR:
            context = browser.new_context(viewport={"width": 1366, "height": 860})
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.get_by_label("Username").fill(shot.user)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("networkidle")
            response = page.goto(f"{base}{shot.path}")
            if shot.follow:
                page.locator(shot.follow).first.click()
                page.wait_for_load_state("networkidle")
            elif response is None or response.status != 200:
                status = response.status if response else "no answer"
                print(f"  {shot.name}: {shot.path} answered {status}; skipped")
                failed += 1
                context.close()
                continue
            target = OUT / f"{shot.name}.png"
            page.screenshot(path=str(target), full_page=shot.full_page)
            print(f"  {shot.name}: {target.relative_to(ROOT)}")
            context.close()
        browser.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(take(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
