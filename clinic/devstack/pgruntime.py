"""A copy of the PostgreSQL programs that the service user can run, for a checkout that only
root may enter (root's home): the server runs as `nobody` and must reach its own binaries."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from clinic.devstack.output import fail, is_root, say


def reachable_by_others(path: Path) -> bool:
    """True when an unprivileged user can traverse to path, both by the path as written and
    by where its symbolic links lead (a worktree's .venv may be a link into a private folder)."""
    for candidate in (path, path.resolve()):
        for parent in [candidate, *candidate.parents]:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                return False
    return True


# The parts of a PostgreSQL installation the servers and clients need: the programs find their
# libraries (RUNPATH $ORIGIN/../lib) and share/ (initdb's templates, time zones) relative to
# their own location, so a copy of these three folders works wherever it is put.
PG_RUNTIME_PARTS = ("bin", "lib", "share")


def pg_runtime_listing(install: Path) -> dict[str, int]:
    """Every file and link of the runtime parts of an installation, with file sizes."""
    listing: dict[str, int] = {}
    for part in PG_RUNTIME_PARTS:
        for dirpath, _dirs, files in os.walk(install / part):
            for name in files:
                path = Path(dirpath, name)
                size = -1 if path.is_symlink() else path.stat().st_size
                listing[str(path.relative_to(install))] = size
    return listing


def safe_to_run_from(directory: Path) -> bool:
    """Ours and writable by no one else: root runs the clients from here, so a copy that
    someone else could have planted or changed in the shared temp folder is never used."""
    info = directory.lstat()
    return (
        directory.is_dir()
        and not directory.is_symlink()
        and info.st_uid == os.geteuid()
        and not info.st_mode & 0o022
    )


def copy_pg_runtime(install: Path, target: Path) -> None:
    """Copy bin/, lib/ and share/ of install to target, readable and runnable by everyone."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for part in PG_RUNTIME_PARTS:
            shutil.copytree(install / part, staging / part, symlinks=True)
        for dirpath, dirs, files in os.walk(staging):
            for name in [*dirs, *files]:
                path = Path(dirpath, name)
                if path.is_symlink():
                    continue
                runnable = path.is_dir() or path.stat().st_mode & 0o100
                os.chmod(path, 0o755 if runnable else 0o644)
        os.chmod(staging, 0o755)  # noqa: S103 - nobody must run the programs inside
        try:
            # Atomic: two stacks starting at once each copy, and the first rename wins.
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def pg_service_bin(pg_bin: Path) -> Path:
    """The PostgreSQL programs at a path the service user can run them from.

    As root the servers run as nobody, who cannot enter a checkout inside a private directory
    (root's home is 0700), so the programs inside .venv are out of its reach. Then use a copy of
    the installation in the system temp folder, one per PostgreSQL version and re-used while it
    is complete (a temp-folder cleaner may have removed files from it)."""
    if not is_root() or reachable_by_others(pg_bin / "initdb"):
        return pg_bin
    install = pg_bin.parent
    target = Path(tempfile.gettempdir()) / f"myelin-{install.name}"
    wanted = pg_runtime_listing(install)
    if target.exists() or target.is_symlink():
        if not safe_to_run_from(target):
            fail(
                f"{target} is not owned by root or is writable by others, so it cannot hold "
                "the PostgreSQL programs. Remove it and start again."
            )
        if pg_runtime_listing(target) == wanted:
            return target / "bin"
        say(f"The copy of PostgreSQL in {target} is incomplete; copying it again ...")
        shutil.rmtree(target)
    else:
        say(f"The checkout is out of reach of the service user; copying PostgreSQL to {target} ...")
    copy_pg_runtime(install, target)
    if not safe_to_run_from(target) or pg_runtime_listing(target) != wanted:
        fail(f"Could not make a complete copy of PostgreSQL in {target}.")
    return target / "bin"
