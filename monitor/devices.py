"""Device type of a user agent, by the maintained ua-parser rules (via user-agents)."""

from __future__ import annotations

import functools

from user_agents import parse


@functools.lru_cache(maxsize=4096)
def device_type(user_agent: str) -> str:
    """One of mobile, tablet, desktop, bot, other."""
    ua = parse(user_agent or "")
    if ua.is_bot:
        return "bot"
    if ua.is_tablet:
        return "tablet"
    if ua.is_mobile:
        return "mobile"
    if ua.is_pc:
        return "desktop"
    return "other"
