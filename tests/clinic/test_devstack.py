"""The project's own stack (`make run`, `make test`): it starts from any checkout."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from clinic import devstack


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A system temp folder of the test's own, so nothing is shared with the real stack."""
    path = Path(tempfile.mkdtemp(prefix="myelin-devstack-test-"))
    path.chmod(0o755)  # the service user must traverse it, as it does /tmp
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="only root runs PostgreSQL as another user (nobody); anyone else runs it as "
    "themselves, and can always enter their own checkout",
)
def test_postgres_starts_from_a_checkout_only_root_may_enter(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clone in root's home, as a newcomer makes it: a folder only root may enter, holding
    # the checkout and its .venv (here a link to the real PostgreSQL installation, as a
    # worktree's .venv links to the shared one).
    home = scratch / "root-home"
    home.mkdir(mode=0o700)
    checkout = home / "myelin"
    (checkout / "var").mkdir(parents=True)
    installation = devstack.postgres_bin().parent
    (checkout / ".venv-postgresql").symlink_to(installation)
    private_bin = checkout / ".venv-postgresql" / "bin"
    monkeypatch.setattr(devstack, "ROOT", checkout)
    monkeypatch.setattr(devstack, "VAR", checkout / "var")
    monkeypatch.setattr(devstack, "postgres_bin", lambda: devstack.pg_service_bin(private_bin))
    assert not devstack.reachable_by_others(private_bin / "initdb")

    url, pg_bin, data, started = devstack.start_postgres({})
    try:
        assert started
        # The servers run as nobody from copies of the programs and a cluster outside the
        # private folder; only root's own clients ever touch the checkout.
        assert devstack.reachable_by_others(pg_bin / "postgres")
        assert devstack.reachable_by_others(data.parent)  # the cluster itself is nobody's, 0700
        assert data.stat().st_uid == pwd.getpwnam("nobody").pw_uid
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT current_database(), current_user").fetchone()
        assert row == (devstack.DB_NAME, "postgres")
    finally:
        devstack.Stack(url, "", pg_bin=pg_bin, pg_data=data).stop()
    assert not (data / "postmaster.pid").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the copy is only made for root")
def test_the_copy_of_postgresql_is_reused_and_repaired(scratch: Path) -> None:
    home = scratch / "root-home"
    home.mkdir(mode=0o700)
    (home / "postgresql").symlink_to(devstack.postgres_bin().parent)
    private_bin = home / "postgresql" / "bin"

    first = devstack.pg_service_bin(private_bin)
    copied_at = (first / "initdb").stat().st_mtime_ns
    assert devstack.pg_service_bin(private_bin) == first
    assert (first / "initdb").stat().st_mtime_ns == copied_at  # re-used, not copied again

    # A temp-folder cleaner removed an old file: the incomplete copy is made again.
    removed = next((first.parent / "share").rglob("*.sql"))
    removed.unlink()
    assert devstack.pg_service_bin(private_bin) == first
    assert removed.exists()


def test_make_run_starts_the_mllp_listener_only_when_it_is_enabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MYELIN_MLLP_ENABLED", raising=False)
    assert "mllp" not in [p.name for p in devstack.dev_programs(8000)]

    monkeypatch.setenv("MYELIN_MLLP_ENABLED", "true")
    listener = {p.name: p for p in devstack.dev_programs(8000)}["mllp"]

    assert listener.argv[-1] == "mllp_listener"
    assert not listener.essential, "the web server stays up if the listener keeps dying"


def test_the_stack_runs_from_the_checkout_root():
    # The dev stack is a package (clinic/devstack/): its root must still be the checkout, where
    # manage.py, pyproject.toml and var/ live, or every step runs in the wrong folder.
    assert (devstack.ROOT / "manage.py").is_file()
    assert (devstack.ROOT / "pyproject.toml").is_file()
