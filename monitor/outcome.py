"""Exit codes, in one documented enum.

The value is the process exit code. When several outcomes happen in one command
(a backfill over many days), the one with the highest ``priority`` wins:
infrastructure > usage > critical > pass.
"""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    PASS = 0  # no critical alert (warnings allowed unless --fail-on warning)
    CRITICAL = 1  # at least one critical alert: stop downstream loads
    USAGE = 2  # bad input or config; one line, no traceback
    INFRASTRUCTURE = 3  # database unreachable and the like; one line, no secret

    @property
    def priority(self) -> int:
        return _PRIORITY.index(self)

    @classmethod
    def worst(cls, outcomes) -> "Outcome":
        return max(outcomes, key=lambda o: o.priority, default=cls.PASS)


_PRIORITY = [Outcome.PASS, Outcome.CRITICAL, Outcome.USAGE, Outcome.INFRASTRUCTURE]
