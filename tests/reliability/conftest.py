"""The hostile-webhook run's figures, printed at the end of the session
(with or without -s): requests per family and the status histogram."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    module = sys.modules.get("tests.reliability.test_hostile_webhooks")
    stats = getattr(module, "STATS", None)
    if not stats:
        return
    write = terminalreporter.write_line
    terminalreporter.section("hostile webhooks")
    families: dict[str, dict[int, int]] = {}
    for (family, status), count in sorted(stats.items()):
        families.setdefault(family, {})[status] = count
    hostile = set(module.BUDGET)
    total = sum(c for (f, _), c in stats.items() if f in hostile)
    histogram: dict[int, int] = {}
    for (f, status), count in stats.items():
        if f in hostile:
            histogram[status] = histogram.get(status, 0) + count
    seconds = sum(module.DURATION.values())
    write(f"hostile requests: {total} in {seconds:.1f} s, statuses {dict(sorted(histogram.items()))}")
    for family, statuses in families.items():
        label = "" if family in hostile else "  (validly signed)"
        write(f"  {family:<26} {sum(statuses.values()):>6}  {dict(sorted(statuses.items()))}{label}")
