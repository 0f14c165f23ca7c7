"""The user-agent table (monitor.user_agents): each distinct agent classified once
(device type, bot name; monitor.store.devices), by a day's first run (monitor.sources)
or by an engine's pass."""

from __future__ import annotations


def learn_user_agents(cursor, table: str, where: str = "true", flat: bool = False) -> int:
    """Classify user agents first seen in ``table``'s rows ``where``; return how many were new.

    The user agent is cut out of the JSON text with string functions (a full
    parse of every row costs twice as much); values holding escapes are parsed.
    OFFSET 0 keeps the cut computed once per row, not once per use. ``flat``: the
    file also has a ``user_agent`` column (kept in ``extra``).
    """
    flat_agents = f"UNION SELECT extra->>'user_agent' FROM {table} WHERE {where}" if flat else ""
    cursor.execute(
        f"""WITH c AS (
                SELECT event_data,
                       CASE WHEN strpos(event_data, '"user_agent":"') > 0
                            THEN split_part(split_part(event_data, '"user_agent":"', 2), '"', 1) END AS fast
                FROM {table} WHERE {where} AND strpos(event_data, '"user_agent"') > 0 OFFSET 0),
            agents AS (
                SELECT DISTINCT CASE WHEN fast IS NOT NULL AND strpos(fast, '\\') = 0 THEN fast
                                     WHEN event_data IS JSON OBJECT AND pg_input_is_valid(event_data, 'jsonb')
                                     THEN (event_data::jsonb)->>'user_agent' END AS ua
                FROM c {flat_agents})
            SELECT ua FROM agents
            WHERE ua IS NOT NULL AND NOT EXISTS (SELECT 1 FROM monitor.user_agents k WHERE k.user_agent = agents.ua)"""
    )
    new = [r[0] for r in cursor.fetchall()]
    store_user_agents(cursor, new)
    return len(new)


def store_user_agents(cursor, agents: list[str]) -> None:
    """Classify agents the table does not hold yet and add them (every engine's one way in)."""
    if not agents:
        return
    from monitor.store import devices  # the parser's rules take a while to load: only when needed

    cursor.executemany(
        "INSERT INTO monitor.user_agents (user_agent, device_type, bot_name) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        [(ua, *devices.classify(ua)) for ua in agents],
    )


def reclassify_user_agents(cursor) -> int:
    """`init`: classify the known agents again with the current lists (an upgrade may know
    more bots); returns how many changed."""
    cursor.execute("SELECT user_agent, device_type, bot_name FROM monitor.user_agents")
    known = cursor.fetchall()
    if not known:
        return 0
    from monitor.store import devices

    changed = [(*devices.classify(ua), ua) for ua, device, name in known if devices.classify(ua) != (device, name)]
    cursor.executemany("UPDATE monitor.user_agents SET device_type = %s, bot_name = %s WHERE user_agent = %s", changed)
    return len(changed)
