"""Debian packages the stack installs when missing (as root): Chromium for the browser tests,
Pango for PDF export, wrk for the load test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from clinic.devstack.output import fail, is_root, say


def ensure_debian_package(command: str, package: str, purpose: str) -> bool:
    """Install a Debian package for a tool the project needs, if missing and possible."""
    if shutil.which(command):
        return True
    if is_root() and shutil.which("apt-get"):
        say(f"Installing {package} for {purpose} (Debian package) ...")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
    return shutil.which(command) is not None


def ensure_pdf_libraries() -> None:
    """WeasyPrint (the patient summary's PDF) needs the system's Pango and a font."""
    probe = [sys.executable, "-c", "import weasyprint"]
    if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return
    if is_root() and shutil.which("apt-get"):
        say("Installing Pango and fonts for PDF export (Debian packages) ...")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            [
                "apt-get",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "libpango-1.0-0",
                "libpangoft2-1.0-0",
                "fonts-dejavu-core",
            ],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
        )
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        say("PDF export needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0).")


def ensure_chromium() -> None:
    if ensure_debian_package("chromium", "chromium", "the browser tests (about a minute)"):
        return
    message = "Chromium is not installed; browser tests need it (apt-get install chromium)."
    if os.environ.get("CI", "").lower() == "true":
        fail(message)
    say(message + " Browser tests will be skipped.")
