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


def python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def _digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ensure(log, venv: Path = VENV) -> tuple[Path | None, str | None]:
    """(the virtualenv's python, None) or (None, why it cannot be had)."""
    stamp = venv / STAMP.name
    if stamp.exists() and stamp.read_text().strip() == _digest() and python(venv).exists():
        return python(venv), None
    log(f"dj-stripe: building its virtualenv {venv} (once)")
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, "_base_executable", None) or sys.executable
    steps = [
        [base, "-m", "venv", str(venv)],
        # Few retries and a short timeout: offline, the phase is skipped in seconds, not minutes.
        [str(python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--retries", "1",
         "--timeout", "15", "-r", str(REQUIREMENTS)],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"its virtualenv could not be built ({type(exc).__name__}: {exc})"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            return None, f"its virtualenv could not be built (offline?): {tail[0][:300]}"
    stamp.write_text(_digest())
    return python(venv), None
