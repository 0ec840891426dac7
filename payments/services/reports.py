"""What an operation (a management command, an admin action) reports: one
:class:`Outcome` per row or object it looked at, a failure of one row never
stopping the others (its message is a ``PaymentsError``'s, or the exception's
first line; the traceback goes to the log). With ``dry_run`` Stripe is only
read and nothing is written anywhere."""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from django.utils import timezone as dj_timezone

from payments.errors import InvalidInput, PaymentsError

logger = logging.getLogger(__name__)

FAILED = "failed"
UNCHANGED = "unchanged"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    action: str  # e.g. "price.replaced", "event.healed", "unchanged", "skipped", "failed"
    subject: str  # what it is about, e.g. "price 5 (Automated €9.99)"
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.action == FAILED

    def __str__(self) -> str:
        return f"{self.subject}: {self.action}{f' - {self.detail}' if self.detail else ''}"


@dataclass
class Report:
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, action: str, subject: str, detail: str = "") -> Outcome:
        outcome = Outcome(action, subject, detail)
        self.outcomes.append(outcome)
        return outcome

    def fail(self, subject: str, exc: Exception | str) -> Outcome:
        return self.add(FAILED, subject, exc if isinstance(exc, str) else error_text(exc))

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    def counts(self) -> Counter[str]:
        return Counter(o.action for o in self.outcomes)

    def count(self, *actions: str) -> int:
        counts = self.counts()
        return sum(counts[a] for a in actions)

    def count_suffix(self, *suffixes: str) -> int:
        """Outcomes whose action ends in one of ``suffixes`` (``.applied`` ...)."""
        return sum(1 for o in self.outcomes if o.action.endswith(suffixes))

    def lines(self, *, verbose: bool = False, hide: tuple[str, ...] = (UNCHANGED,)) -> list[str]:
        """One line per outcome, failures included; ``hide``'s actions only when verbose."""
        return [str(o) for o in self.outcomes if verbose or o.action not in hide]

    def summary(self) -> str:
        """``price.created=2 unchanged=3 failed=0``: each action's count, failed always shown."""
        counts = self.counts()
        counts.setdefault(FAILED, 0)
        return " ".join(f"{action}={n}" for action, n in sorted(counts.items()))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def error_text(exc: Exception) -> str:
    """A PaymentsError's message, with what Stripe said when it came from Stripe (this is
    for operators: "No such product: 'prod_…'" tells them more); else the exception's
    type and first line. Never a traceback."""
    if isinstance(exc, PaymentsError):
        cause = _first_line(exc.__cause__) if exc.__cause__ is not None else ""
        return f"{exc.message} ({cause})" if cause and cause not in exc.message else exc.message
    first_line = _first_line(exc)
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__


def guarded(report: Report, subject: str, step: Callable[[], None]) -> None:
    """Run one row's step; its failure is recorded and the next row still runs."""
    try:
        step()
    except PaymentsError as exc:
        report.fail(subject, exc)
    except Exception as exc:  # noqa: BLE001 -- one row's bug must not stop the others; logged in full
        logger.exception("operations: %s failed", subject)
        report.fail(subject, exc)


def would(dry_run: bool, text: str) -> str:
    return f"would {text}" if dry_run else text


def new_key(prefix: str) -> str:
    """A key for an update that is harmless to repeat: one per attempt (the stripe
    library's own retries of that attempt reuse it)."""
    return f"{prefix}-{uuid.uuid4().hex}"




_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``2h``, ``3d``, ``90m``, ``1w`` (ago), or an ISO 8601 date/datetime (UTC when
    no offset). InvalidInput otherwise."""
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        return (now or dj_timezone.now()) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a duration (2h, 3d) nor an ISO date/datetime: {value!r}", field="since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
