"""Days in the shop's own time zone (``[day] timezone``; README, "Days and time zones").

A day D is [D 00:00, D+1 00:00) on the zone's wall clock: 23 hours on the day clocks
spring forward, 25 on the day they fall back. Everything that names a day (partitions,
"yesterday", the pass's out-of-day rows, hours and intraday slots) asks here.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import UsageError

# intraday runs count and judge a day in slots of its wall clock (slot 0 = 00:00-00:14)
SLOT_MINUTES = 15
SLOTS = 24 * 60 // SLOT_MINUTES


@functools.cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"day.timezone {name!r}: not a time zone name (e.g. \"UTC\", \"America/New_York\")") from None


def today(name: str, now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(zone(name)).date()


def start(day: dt.date, name: str) -> dt.datetime:
    """The instant day D begins, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(), zone(name)).astimezone(dt.timezone.utc)


def at(day: dt.date, minutes: int, name: str) -> dt.datetime:
    """The instant the wall clock of day D shows ``minutes`` after midnight (1440: D+1 00:00)."""
    if minutes >= 24 * 60:
        return start(day + dt.timedelta(days=1), name)
    local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), zone(name))
    return local.astimezone(dt.timezone.utc)


def missing_hours(day: dt.date, name: str) -> frozenset[int]:
    """Wall-clock hours that do not happen on day D (02:00 the day clocks spring forward)."""
    tz = zone(name)
    out = set()
    for hour in range(24):
        local = dt.datetime.combine(day, dt.time(hour), tz)
        # a time that does not exist comes back shifted when it goes round UTC
        if local.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            out.add(hour)
    return frozenset(out)


def label(name: str) -> str:
    """How messages name the zone ("UTC", "America/New_York")."""
    return name
