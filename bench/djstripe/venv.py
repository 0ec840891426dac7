"""dj-stripe's virtualenv, var/bench/djstripe-venv (outside the tracked files),
built once from requirements.txt beside this file and reused: a stamp file
holds the requirements it was built from, so a change to them builds it again."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / "var" / "bench" / "djstripe-venv"
REQUIREMENTS = HERE / "requirements.txt"
STAMP = VENV / ".installed"


def python() -> Path:
    return VENV / "bin" / "python"


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(log) -> tuple[Path | None, str | None]:
    """(the virtualenv's python, None) or (None, why it cannot be had)."""
    if STAMP.exists() and STAMP.read_text().strip() == _digest() and python().exists():
        return python(), None
    log(f"dj-stripe: building its virtualenv {VENV} (once)")
    shutil.rmtree(VENV, ignore_errors=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    steps = [
        [base, "-m", "venv", str(VENV)],
        [str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"its virtualenv could not be built ({type(exc).__name__}: {exc})"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            return None, f"its virtualenv could not be built (offline?): {tail[0][:300]}"
    STAMP.write_text(_digest())
    return python(), None
