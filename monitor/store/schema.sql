-- Tables of the monitor. Idempotent: `runner.py init` may run any number of times,
-- and it is the only command that changes the schema (see SCHEMA_VERSION in
-- __init__.py: the other commands only check the version recorded at the end).

CREATE SCHEMA IF NOT EXISTS events;
CREATE SCHEMA IF NOT EXISTS monitor;

-- One row per `load` command.
CREATE TABLE IF NOT EXISTS events.loads (
    load_id        bigserial PRIMARY KEY,
    source_file    text        NOT NULL,
    file_sha256    text        NOT NULL,
    file_format    text        NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    requested_date date,
    columns        text[]      NOT NULL,
    row_count      bigint      NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS loads_sha ON events.loads (file_sha256);
-- `load --replace`: the later load whose rows took this load's place in a day
ALTER TABLE events.loads ADD COLUMN IF NOT EXISTS replaced_by bigint;
-- rows whose bytes were not UTF-8 (decoded with U+FFFD), per load
ALTER TABLE events.loads ADD COLUMN IF NOT EXISTS invalid_encoding_rows bigint NOT NULL DEFAULT 0;

-- Rows exactly as received: timestamp and event_data stay text so nothing is dropped.
CREATE TABLE IF NOT EXISTS events.raw_events (
    partition_date date   NOT NULL,
    load_id        bigint NOT NULL,  -- no foreign key: its per-row check tripled load time
    line_no        bigint NOT NULL,
    client_id      text,
    "timestamp"    text,
    event_name     text,
    event_data     text,
    extra          jsonb
);
-- Loads append a day's rows together, so a BRIN index finds a day as well as a
-- btree would, at a fraction of its cost per loaded row. (Earlier versions had
-- the btree raw_events_day.) Readers summarise the ranges loads filled (sources.summarize_new_ranges).
DROP INDEX IF EXISTS events.raw_events_day;
CREATE INDEX IF NOT EXISTS raw_events_day_brin ON events.raw_events USING brin (partition_date)
    WITH (pages_per_range = 32, autosummarize = on);
ALTER TABLE events.raw_events DROP CONSTRAINT IF EXISTS raw_events_load_id_fkey;

-- A dated CSV load COPYs straight into raw_events (no staging copy): the load's
-- id, day and line numbers come from these defaults, which read settings the
-- loader sets for its transaction. Outside a load they fail loudly.
CREATE SEQUENCE IF NOT EXISTS events.load_line_no;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                 WHERE d.adrelid = 'events.raw_events'::regclass AND a.attname = 'line_no') THEN
    ALTER TABLE events.raw_events
      ALTER COLUMN partition_date SET DEFAULT current_setting('monitor.load_day')::date,
      ALTER COLUMN load_id SET DEFAULT current_setting('monitor.load_id')::bigint,
      ALTER COLUMN line_no SET DEFAULT nextval('events.load_line_no');
  END IF;
END $$;

-- Which loads fed which day, with the columns each file had (schema checks read it).
CREATE TABLE IF NOT EXISTS events.load_days (
    load_id        bigint NOT NULL REFERENCES events.loads ON DELETE CASCADE,
    partition_date date   NOT NULL,
    row_count      bigint NOT NULL,
    PRIMARY KEY (partition_date, load_id)
);

-- Device type per distinct user agent, filled by the UA parser library.
CREATE TABLE IF NOT EXISTS monitor.user_agents (
    user_agent  text PRIMARY KEY,
    device_type text NOT NULL
);
-- the bot's short name (AhrefsBot, python-requests) when device_type is 'bot'
ALTER TABLE monitor.user_agents ADD COLUMN IF NOT EXISTS bot_name text;
-- the metrics pass matches sessions to agents by this key (see day_metrics.sql)
ALTER TABLE monitor.user_agents ADD COLUMN IF NOT EXISTS ua_hash bigint
    GENERATED ALWAYS AS (hashtextextended(user_agent, 0)) STORED;
-- a day's pass looks up only the day's agents (the table grows with every agent ever seen)
CREATE INDEX IF NOT EXISTS user_agents_hash ON monitor.user_agents (ua_hash);

-- The loaded days whose user agents are in monitor.user_agents: a day's first run
-- classifies its loads' new agents (sources.LoadedTable.prepare), so `load` does
-- no more than store the rows. Loads made before this table (schema 6 and older)
-- had their agents classified by the load itself.
DO $$
BEGIN
  IF to_regclass('monitor.classified_loads') IS NULL THEN
    CREATE TABLE monitor.classified_loads (
        load_id        bigint NOT NULL,
        partition_date date   NOT NULL,
        PRIMARY KEY (partition_date, load_id),
        FOREIGN KEY (partition_date, load_id) REFERENCES events.load_days ON DELETE CASCADE
    );
    INSERT INTO monitor.classified_loads SELECT load_id, partition_date FROM events.load_days;
  END IF;
END $$;

-- One row per day, metric and dimension value: the history every baseline reads.
CREATE TABLE IF NOT EXISTS monitor.daily_metrics (
    day         date             NOT NULL,
    metric      text             NOT NULL,
    dimension   text             NOT NULL DEFAULT '',
    value       double precision NOT NULL,
    computed_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (day, metric, dimension)
);
-- each check reads its own metrics over its history (custom_expectations/day_metric_series.py):
-- by metric first, so a day's read costs its rows, not every metric of every day in the window
CREATE INDEX IF NOT EXISTS daily_metrics_metric_day ON monitor.daily_metrics (metric, day);

-- One row per `run` of a day.
CREATE TABLE IF NOT EXISTS monitor.runs (
    run_id      text PRIMARY KEY,
    day         date        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text,
    checks      int,
    passed      int,
    skipped     int,
    alerts      int
);
CREATE INDEX IF NOT EXISTS runs_day ON monitor.runs (day, started_at DESC);
-- the loads of the day the run's metrics were computed from (a later load makes it stale)
ALTER TABLE monitor.runs ADD COLUMN IF NOT EXISTS loads bigint[];
-- in place: the fingerprint of the day's rows the run's metrics saw (rows changed later: stale)
ALTER TABLE monitor.runs ADD COLUMN IF NOT EXISTS fingerprint text;
-- why a run ended without a verdict (status 'error' or 'crashed')
ALTER TABLE monitor.runs ADD COLUMN IF NOT EXISTS error text;

-- One row per check per run: the spec's "error logs in a monitoring_results table".
CREATE TABLE IF NOT EXISTS monitor.monitoring_results (
    run_id        text        NOT NULL,
    run_time      timestamptz NOT NULL,
    data_date     date        NOT NULL,
    suite         text        NOT NULL,
    check_name    text        NOT NULL,
    category      text        NOT NULL,
    severity      text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pass', 'warning', 'critical', 'skipped', 'error')),
    observed      text,
    expected      text,
    expected_low  double precision,
    expected_high double precision,
    baseline      double precision,
    message       text,
    details       jsonb,
    PRIMARY KEY (run_id, suite, check_name)
);
CREATE INDEX IF NOT EXISTS monitoring_results_day ON monitor.monitoring_results (data_date, run_time DESC);

-- Notifications sent (or failed) per run and channel.
CREATE TABLE IF NOT EXISTS monitor.notifications (
    run_id      text        NOT NULL,
    data_date   date        NOT NULL,
    channel     text        NOT NULL,
    status      text        NOT NULL,
    fingerprint text        NOT NULL,
    attempts    int         NOT NULL,
    error       text,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notifications_day ON monitor.notifications (data_date, channel);
-- the run's verdict when the message went out: a later passing run sends "resolved"
-- once for a day whose critical alert was sent
ALTER TABLE monitor.notifications ADD COLUMN IF NOT EXISTS verdict text;

-- The latest run per day, finished or not: what `status` and downstream gates
-- read. A run still going, crashed or errored there means "no verdict".
DROP VIEW IF EXISTS monitor.day_metric_window;
DROP VIEW IF EXISTS monitor.day_gate;
DROP VIEW IF EXISTS monitor.latest_results;
DROP VIEW IF EXISTS monitor.latest_runs;
CREATE VIEW monitor.latest_runs AS
SELECT DISTINCT ON (day) *
FROM monitor.runs
ORDER BY day, started_at DESC;

-- The latest run per day that reached a verdict: what baselines read.
CREATE OR REPLACE VIEW monitor.latest_verdicts AS
SELECT DISTINCT ON (day) *
FROM monitor.runs
WHERE finished_at IS NOT NULL AND status IN ('pass', 'warning', 'critical')
ORDER BY day, started_at DESC;

-- The gate per day (README, "Command line"), read by `status` and by anything else
-- that gates on the monitor (the dbt example): open only for a finished,
-- current, non-critical verdict; ``reason`` says why it is closed.
DROP VIEW IF EXISTS monitor.day_gate;
CREATE VIEW monitor.day_gate AS
WITH d AS (
    SELECT partition_date AS day, sum(row_count) AS rows, count(*) AS loads,
           array_agg(load_id ORDER BY load_id) AS load_ids
    FROM events.load_days GROUP BY 1
), g AS (
    -- a day computed from a lake (Spark engine) has no loads here: its rows are the run's count
    SELECT coalesce(d.day, l.day) AS day,
           coalesce(d.rows, (SELECT m.value::bigint FROM monitor.daily_metrics m
                             WHERE m.day = l.day AND m.metric = 'rows' AND m.dimension = ''), 0) AS rows,
           coalesce(d.loads, 0) AS loads,
           l.run_id, l.status, l.alerts, l.error, l.finished_at,
           l.finished_at IS NOT NULL AND l.status IN ('pass', 'warning', 'critical') AS has_verdict,
           l.loads IS DISTINCT FROM coalesce(d.load_ids, '{}') AS loads_changed
    FROM d FULL JOIN monitor.latest_runs l ON l.day = d.day
)
SELECT day, rows, loads, run_id, status, alerts, has_verdict, has_verdict AND loads_changed AS stale,
       CASE WHEN run_id IS NULL THEN 'never run'
            WHEN finished_at IS NULL THEN 'run ' || run_id || ' has not finished (still running, or it was killed)'
            WHEN NOT has_verdict THEN 'run ' || run_id || ' ' || status || ': ' || coalesce(error, 'no verdict')
            WHEN loads_changed THEN 'stale: the day''s loads changed after its latest run; run it again'
            WHEN status = 'critical' THEN 'the latest verdict is critical'
       END AS reason
FROM g;

CREATE VIEW monitor.latest_results AS
SELECT r.*
FROM monitor.monitoring_results r
JOIN monitor.latest_verdicts l USING (run_id);

-- The day GX's own tools validate when they run the checkpoint themselves: the session
-- setting monitor.day if one is set, else the latest day a run started. `runner.py run`
-- never relies on it: its batches name their day in their query (no session state, so
-- a pooler that drops connection options changes nothing).
CREATE OR REPLACE FUNCTION monitor.scope_day() RETURNS date
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('monitor.day', true), '')::date, (SELECT max(day) FROM monitor.runs))
$$;

-- The metrics GX validates for day $1: that day and the days before it. Which of those
-- may serve as a check's baseline is decided per check from its own earlier verdicts
-- (custom_expectations/baseline.py). Inlined by the planner (one SELECT, STABLE).
CREATE OR REPLACE FUNCTION monitor.metric_window(d date)
RETURNS TABLE (day date, metric text, dimension text, value double precision, is_target boolean)
LANGUAGE sql STABLE AS $$
  SELECT m.day, m.metric, m.dimension, m.value, m.day = $1
  FROM monitor.daily_metrics m WHERE m.day BETWEEN $1 - 90 AND $1
$$;
CREATE VIEW monitor.day_metric_window AS SELECT * FROM monitor.metric_window(monitor.scope_day());

-- Up to 20 offending rows per field-health check and day, with the file and line
-- they came from; rewritten by each metrics pass of the day.
CREATE TABLE IF NOT EXISTS monitor.day_samples (
    day        date   NOT NULL,
    check_name text   NOT NULL,
    file       text   NOT NULL,
    line       bigint NOT NULL,
    value      text
);
CREATE INDEX IF NOT EXISTS day_samples_day ON monitor.day_samples (day, check_name);
-- in place: the fingerprint of the rows a day's metrics were computed from (sources.relation)
CREATE TABLE IF NOT EXISTS monitor.day_fingerprints (
    day         date PRIMARY KEY,
    fingerprint text NOT NULL
);
-- in place, a sample names its row by the relation's row id, not by file and line
ALTER TABLE monitor.day_samples ADD COLUMN IF NOT EXISTS row_id text;
ALTER TABLE monitor.day_samples ALTER COLUMN line DROP NOT NULL;

-- `runner.py accept --date D [--check C]`: a person says D's level is the new
-- normal for check C ('' = every check); baselines start there.
CREATE TABLE IF NOT EXISTS monitor.accepted_days (
    day         date        NOT NULL,
    check_name  text        NOT NULL DEFAULT '',
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, check_name)
);
-- who or what accepted it: a person's `runner.py accept`, or the run that took a lasting
-- warning-level change as the new level
ALTER TABLE monitor.accepted_days ADD COLUMN IF NOT EXISTS accepted_by text;

-- Within the day (`intraday`, README "Within the day"). A load's rows are counted
-- once, per 15-minute slot of its day (bucket 0 = 00:00-00:14 UTC): later runs of the
-- day read these small rows, never the day's rows again. Counts are additive, so
-- a day's slot is the sum over its current loads (a replaced load drops out).
CREATE TABLE IF NOT EXISTS monitor.intraday_counts (
    day       date             NOT NULL,
    load_id   bigint           NOT NULL,
    bucket    smallint         NOT NULL CHECK (bucket BETWEEN 0 AND 95),
    metric    text             NOT NULL,
    dimension text             NOT NULL DEFAULT '',
    value     double precision NOT NULL,
    PRIMARY KEY (day, load_id, bucket, metric, dimension)
);
-- the loads counted so far (a load with no rows in a slot is still counted)
CREATE TABLE IF NOT EXISTS monitor.intraday_loads (
    day        date        NOT NULL,
    load_id    bigint      NOT NULL,
    counted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, load_id)
);
-- a load's rows are found by its id: loads append, so a BRIN index on it is small and exact enough
CREATE INDEX IF NOT EXISTS raw_events_load_brin ON events.raw_events USING brin (load_id)
    WITH (pages_per_range = 32, autosummarize = on);

-- One row per intraday run; never a verdict of the day (the gate reads monitor.runs only).
CREATE TABLE IF NOT EXISTS monitor.intraday_runs (
    run_id      text PRIMARY KEY,
    day         date        NOT NULL,
    until_time  time        NOT NULL,  -- the day evaluated from 00:00 up to this time
    asked_until time        NOT NULL,  -- what --until (or the clock) asked for
    run_time    timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL,
    checks      int         NOT NULL,
    passed      int         NOT NULL,
    skipped     int         NOT NULL,
    alerts      int         NOT NULL,
    summary     jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS intraday_runs_day ON monitor.intraday_runs (day, run_time);

CREATE TABLE IF NOT EXISTS monitor.intraday_results (
    run_id     text NOT NULL REFERENCES monitor.intraday_runs ON DELETE CASCADE,
    day        date NOT NULL,
    check_name text NOT NULL,
    category   text NOT NULL,
    severity   text NOT NULL,
    status     text NOT NULL CHECK (status IN ('pass', 'warning', 'critical', 'skipped', 'error')),
    observed   text,
    expected   text,
    message    text,
    details    jsonb,
    PRIMARY KEY (run_id, check_name)
);

-- A critical intraday finding is one incident from the run that found it until the
-- first run that no longer does: it pages once, and its all-clear once.
CREATE TABLE IF NOT EXISTS monitor.intraday_incidents (
    incident_id bigserial PRIMARY KEY,
    day         date        NOT NULL,
    check_name  text        NOT NULL,
    opened_run  text        NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    message     text        NOT NULL,
    closed_run  text,
    closed_at   timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS intraday_incidents_open ON monitor.intraday_incidents (day, check_name)
    WHERE closed_run IS NULL;

-- Every intraday message attempted, per incident and channel ('alert' or 'resolved').
CREATE TABLE IF NOT EXISTS monitor.intraday_notifications (
    incident_id bigint      NOT NULL REFERENCES monitor.intraday_incidents ON DELETE CASCADE,
    run_id      text        NOT NULL,
    channel     text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('alert', 'resolved')),
    status      text        NOT NULL,
    attempts    int         NOT NULL,
    error       text,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS intraday_notifications_incident ON monitor.intraday_notifications (incident_id, channel);

-- An ISO-8601 timestamp, or NULL. PostgreSQL alone would also accept 'now',
-- 'epoch', 'today' and other words no pixel sends, so the shape
-- (YYYY-MM-DD[T ]HH:MM...) is checked first with LIKE: a regex or per-character
-- string checks cost more than the parse itself; the parse rejects non-digits.
CREATE OR REPLACE FUNCTION events.parse_ts(t text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN (t LIKE '____-__-__T__:__%' OR t LIKE '____-__-__ __:__%') AND pg_input_is_valid(t, 'timestamptz')
    THEN t::timestamptz END
$$;

-- monitor.url_host, url_param, source_kind, channel_from and channel_of are
-- generated from monitor/channels.py (the rules the Spark engine uses too) and
-- installed by `init` after this file.

-- The schema version `init` applied; every other command refuses an older one.
CREATE TABLE IF NOT EXISTS monitor.schema_version (
    version    int         NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
