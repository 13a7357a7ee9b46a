"""The Content-Security-Policy allows only the app's own script and style files (and scripts
carrying the page's nonce): an inline style attribute, a <style> block, an inline event
handler or an inline script in a template would be refused by the browser, and fill the
console with violations, on full pages and on htmx swaps alike."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# A PDF rendered by WeasyPrint, never served to a browser: no CSP applies to it.
NOT_SERVED = {"treatments/summary_pdf.html"}

INLINE = {
    "a style attribute": re.compile(r"\sstyle\s*="),
    "a <style> block": re.compile(r"<style\b", re.IGNORECASE),
    "an inline event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "an htmx inline handler": re.compile(r"\shx-on[:-]"),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "an inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
}


def test_no_template_carries_inline_style_or_script() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name in NOT_SERVED:
            continue
        text = path.read_text()
        found += [f"{name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


def test_every_script_carries_the_pages_nonce() -> None:
    scripts = [
        (path.relative_to(TEMPLATES).as_posix(), tag)
        for path in TEMPLATES.rglob("*.html")
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(), re.IGNORECASE)
    ]
    assert scripts, "base.html loads the app's script"
    assert [(name, tag) for name, tag in scripts if "csp_nonce" not in tag] == []
