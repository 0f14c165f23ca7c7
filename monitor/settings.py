"""All settings in one validated model, resolved one way (``load``): ``monitor.toml``,
then ``MONITOR__SECTION__KEY`` environment overrides for any key, then the secrets
(typed fields, from the environment only: ``secrets_from_env``).

Defaults are the contract's thresholds (README, "Checks"), so an empty or
missing file gives the contract's behaviour.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from monitor import project
from monitor.errors import UsageError

PROJECT_ROOT = project.CODE_ROOT  # the code's folder; a project's files come from monitor.project

# The input format (README, "Input"): fixed, not a setting.
INPUT_COLUMNS = ("client_id", "timestamp", "event_name", "event_data")
# Payload keys a flattened export may carry as top-level columns (README, "Input"):
# such a column is that field, read by every check, never an "unexpected column".
# When a column and the payload key both hold a value, the payload key wins.
FIELD_COLUMNS = ("page_url", "referrer", "user_agent", "page_title", "utm_source", "utm_medium", "utm_campaign",
                 "session_id", "device_type", "order_id", "revenue", "currency", "item_count", "checkout_token",
                 "product_id", "price", "quantity", "cart_value")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Strict):
    # volume
    total_events_warn_pct: float = Field(20.0, gt=0)  # outside +-20% of the 7-day average
    total_events_critical_drop_pct: float = Field(50.0, gt=0)
    page_view_drop_warn_pct: float = Field(25.0, gt=0)
    sessions_warn_pct: float = Field(20.0, gt=0)
    event_type_drop_warn_pct: float = Field(50.0, gt=0)
    # field health
    malformed_json_critical_pct: float = Field(1.0, ge=0)
    invalid_encoding_critical_pct: float = Field(1.0, ge=0)  # rows with bytes that are not UTF-8
    future_tolerance_minutes: int = Field(5, ge=0)
    # duplicates
    duplicate_spike_critical_pct: float = Field(20.0, gt=0)
    duplicate_spike_min_rows: int = Field(10, ge=0)  # absolute floor: smaller rises page nobody
    # funnel
    funnel_drop_warn_pct: float = Field(50.0, gt=0)
    revenue_drop_warn_pct: float = Field(50.0, gt=0)
    # mixes: Jensen-Shannon distance (base 2, 0..1)
    channel_mix_max_distance: float = Field(0.15, gt=0, le=1)
    utm_source_mix_max_distance: float = Field(0.2, gt=0, le=1)
    device_mix_max_distance: float = Field(0.15, gt=0, le=1)
    # session integrity
    session_duration_warn_pct: float = Field(25.0, gt=0)
    page_depth_warn_pct: float = Field(25.0, gt=0)
    # silence: a run of hours without any event whose usual traffic is at least this many sessions
    silence_min_expected_sessions: float = Field(10.0, gt=0)
    # bots: share of sessions (or of hits) from bots, in percentage points above the expected share
    bot_share_warn_points: float = Field(10.0, gt=0)
    bot_share_critical_pct: float = Field(50.0, gt=0, le=100)  # above this share of sessions or hits: critical


class Baseline(_Strict):
    """How a check predicts the day from its history (custom_expectations/baseline.py)."""

    # "weekday": the same weekday's typical share of the last weeks times the recent
    # (median) level; "mean7": the spec's plain trailing average
    method: Literal["weekday", "mean7"] = "weekday"
    window_days: int = Field(7, ge=1, le=42)  # the recent level (and mean7's window)
    history_days: int = Field(42, ge=7, le=90)  # how far back the weekday pattern is learnt
    min_history_days: int = Field(3, ge=1)  # fewer usable days: the check is "skipped"
    exclude_alert_days: bool = True  # a day on which a check alerted is not that check's baseline...
    accept_after_days: int = Field(3, ge=1)  # ...unless it is one of this many alerting days in a row
    noise_sigma: float = Field(3.5, ge=0)  # and a change must exceed this many robust SDs of the day-to-day spread


class Bots(_Strict):
    """Bots are recognised by their user agent (maintained lists, monitor/devices.py) and by
    behaviour no list sees: a client with more than ``max_hits_per_minute`` hits in each of
    ``fast_minutes`` minutes of the day is a bot too."""

    max_hits_per_minute: int = Field(30, ge=1)
    fast_minutes: int = Field(3, ge=1)


class Sessions(_Strict):
    inactivity_minutes: int = Field(30, ge=1)


class Alerting(_Strict):
    warnings: str = Field("immediate", pattern="^(immediate|digest)$")
    retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(0.5, ge=0)
    timeout_seconds: float = Field(5.0, gt=0)
    smtp_starttls: bool = False
    docs_base_url: str = ""  # prefix for Data Docs links in messages; empty = local file path


class Docs(_Strict):
    keep_runs: int = Field(30, ge=1)  # validation results (and Data Docs pages) kept per suite


class EventNames(_Strict):
    """What the feed calls each funnel step. The metrics pass and every check read
    the names from here, so renaming ``purchase`` to ``order_completed`` is one line."""

    page_view: str = Field("page_viewed", min_length=1)
    add_to_cart: str = Field("add_to_cart", min_length=1)
    checkout: str = Field("checkout_started", min_length=1)
    purchase: str = Field("purchase", min_length=1)
    others: tuple[str, ...] = ()  # further names the feed may send that are not "unknown"

    @model_validator(mode="after")
    def _distinct(self):
        if len(set(self.known)) != len(self.known):
            raise ValueError("event names must be distinct")
        return self

    @property
    def known(self) -> tuple[str, ...]:
        return (self.page_view, self.add_to_cart, self.checkout, self.purchase, *self.others)


class Columns(_Strict):
    """``[columns]``: what the feed calls each contract column or flattened field
    (``client_id = "anonymous_id"``). Unset = the contract's own name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: str | None = None
    timestamp: str | None = None
    event_name: str | None = None
    event_data: str | None = None
    page_url: str | None = None
    referrer: str | None = None
    user_agent: str | None = None
    page_title: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    session_id: str | None = None
    device_type: str | None = None
    order_id: str | None = None
    revenue: str | None = None
    currency: str | None = None
    item_count: str | None = None
    checkout_token: str | None = None
    product_id: str | None = None
    price: str | None = None
    quantity: str | None = None
    cart_value: str | None = None
    # in place only (README, "Monitor your own table"): what names a row in samples, the
    # column a pipeline stamps when it writes a row, and a date column the day is read by
    row_id: str | None = None
    loaded_at: str | None = None
    partition_date: str | None = None

    @model_validator(mode="after")
    def _one_name_each(self):
        feed = [v for v in self.mapping.values() if v]
        dupes = sorted({v for v in feed if feed.count(v) > 1})
        if dupes:
            raise ValueError(f"feed column(s) mapped twice: {', '.join(dupes)}")
        return self

    @property
    def mapping(self) -> dict[str, str]:
        """contract name -> the feed's column, for the names that differ."""
        return {k: v for k, v in self.model_dump().items() if v and v != k and k not in IN_PLACE_ONLY}

    @property
    def absent(self) -> frozenset[str]:
        """Contract names mapped to "": the feed has no such column (a Snowplow table has
        no event_data), so it is not a missing column."""
        return frozenset(k for k, v in self.model_dump().items() if v == "")

    def feed_name(self, contract: str) -> str | None:
        """The feed's name of a contract column (None: declared absent)."""
        value = getattr(self, contract)
        return None if value == "" else (value or contract)

    def rename(self, names) -> list[str]:
        """The feed's column names as contract names (a mapped column takes its contract name;
        a feed column that happens to carry a contract name another column is mapped to
        keeps its own name, prefixed, so nothing is silently overwritten)."""
        to_contract = {v: k for k, v in self.mapping.items()}
        taken = set(self.mapping)
        out = []
        for n in names:
            if n in to_contract:
                out.append(to_contract[n])
            elif n in taken:
                out.append(f"_feed_{n}")
            else:
                out.append(n)
        return out


IN_PLACE_ONLY = ("row_id", "loaded_at", "partition_date")


class Source(_Strict):
    """Where a day's rows come from (README, "Monitor your own table"): unset, the loader's
    own table; ``relation``, a table or view the team's pipeline writes, read in place."""

    relation: str | None = Field(None, min_length=1)  # schema.table, or a view
    purchases: str | None = Field(None, min_length=1)  # a table of purchase rows, joined on [columns] row_id
    preset: Literal["snowplow", "segment", "ga4", "shopify"] | None = None

    @property
    def in_place(self) -> bool:
        return self.relation is not None


class Day(_Strict):
    """Whose calendar day a day is (README, "Days and time zones"): the monitor's day D is
    [D 00:00, D+1 00:00) in this IANA zone, for every source; UTC unless said."""

    timezone: str = "UTC"

    @model_validator(mode="after")
    def _known_zone(self):
        from monitor import days

        days.zone(self.timezone)  # an unknown name is a usage error naming it
        return self


class Intraday(_Strict):
    """Runs within the day (README, "Within the day"): the day so far against the same
    hours of its usual days."""

    history_days: int = Field(28, ge=7, le=90)  # earlier days whose same hours are learnt
    min_expected: float = Field(10.0, gt=0)  # a window widens hour by hour until this many are expected
    stop_probability: float = Field(0.01, gt=0, lt=0.5)  # "purchases stopped" pages a normal day this rarely
    min_rows: int = Field(200, ge=1)  # a field-health share needs this many rows in its window
    max_lag_minutes: int = Field(120, ge=15)  # no new rows for longer than this: a warning


class Suites(_Strict):
    """A team's own GX suites (README, "Your own checks"): run on the day's rows
    (monitor.day_events) after the monitor's suites, in the same run."""

    extra: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _names(self):
        import re

        for name in self.extra:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise ValueError(f"suite name {name!r}: letters, digits, '_', '.' and '-' only")
        if len(set(self.extra)) != len(self.extra):
            raise ValueError("a suite is listed twice")
        return self


class Engine(_Strict):
    """Where a day's metrics are computed (README, "Engines: PostgreSQL or Spark"); the store is always PostgreSQL."""

    name: Literal["postgres", "spark"] = "postgres"
    spark_source: str | None = None  # the lake: a folder or URI holding date=YYYY-MM-DD/ partitions


class Spark(_Strict):
    master: str | None = None  # else $SPARK_MASTER, else local[*]
    conf: dict[str, str] = {}  # further Spark settings (spark.executor.memory, fs.s3a.endpoint, ...)


class Secrets(_Strict):
    slack_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    email_from: str | None = None
    email_to: tuple[str, ...] = ()


class Settings(_Strict):
    source: Source = Source()
    suites: Suites = Suites()
    engine: Engine = Engine()
    spark: Spark = Spark()
    events: EventNames = EventNames()
    columns: Columns = Columns()
    thresholds: Thresholds = Thresholds()
    baseline: Baseline = Baseline()
    sessions: Sessions = Sessions()
    bots: Bots = Bots()
    alerting: Alerting = Alerting()
    docs: Docs = Docs()
    day: Day = Day()
    intraday: Intraday = Intraday()
    secrets: Secrets = Secrets()  # from the environment only (load); never from a file

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data):
        """``[source] preset``: a known schema's relation, columns and event names, under
        whatever the file says itself."""
        preset = ((data or {}).get("source") or {}).get("preset") if isinstance(data, dict) else None
        if not preset:
            return data
        from monitor.sources import presets

        return presets.apply(preset, data)


def config_path() -> Path:
    return Path(os.environ.get("MONITOR_CONFIG") or project.project_dir() / project.CONFIG_NAME)


ENV_PREFIX = "MONITOR__"  # MONITOR__THRESHOLDS__TOTAL_EVENTS_WARN_PCT=30 overrides [thresholds] total_events_warn_pct


def env_overrides(env=None) -> dict[str, dict]:
    """``MONITOR__<SECTION>__<KEY>=value`` variables as a config fragment (as dlt reads
    ``SECTION__KEY``). A value is read as a TOML value (``30``, ``true``, ``"x"``,
    ``["a", "b"]``, ``{ k = "v" }``), else taken as text."""
    out: dict[str, dict] = {}
    for name, value in sorted((env if env is not None else os.environ).items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX):].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise UsageError(f"{name}: expected MONITOR__<SECTION>__<KEY>, e.g. MONITOR__THRESHOLDS__SESSIONS_WARN_PCT")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        out.setdefault(parts[0], {})[parts[1]] = parsed
    return out


def load() -> Settings:
    """The settings of this process, resolved one way: ``monitor.toml`` (or
    ``$MONITOR_CONFIG``), then ``MONITOR__SECTION__KEY`` environment overrides, then the
    secrets from the environment (typed fields of the same model, never from a file).
    The file is read once for a given path and set of overrides.

    A ``MONITOR_CONFIG`` that names no file is an error (a typo must not
    silently give the defaults); a missing default ``monitor.toml`` gives them.
    """
    path = config_path()
    if os.environ.get("MONITOR_CONFIG") and not path.is_file():
        raise UsageError(f"MONITOR_CONFIG={path}: no such file")
    # the raw variables are the cache key: load_file parses and checks them with the file
    variables = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    base = load_file(path, variables)
    return base.model_copy(update={"secrets": secrets_from_env()})


@functools.lru_cache(maxsize=None)
def load_file(path: Path, variables: tuple[tuple[str, str], ...] = ()) -> Settings:
    """Read and validate one config file, with the override ``variables`` (name, value)
    on top; a bad file or override is a usage error naming it."""
    data = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"config {path}: {exc}") from None
    if "secrets" in data:
        raise UsageError(f"config {path}: [secrets] does not belong in a file: secrets come from the environment")
    extra = env_overrides(dict(variables))
    for section, keys in extra.items():
        if not isinstance(data.get(section, {}), dict):
            raise UsageError(f"{ENV_PREFIX}{section.upper()}__*: [{section}] is not a section")
        data.setdefault(section, {}).update(keys)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        if len(loc) >= 2 and loc[1] in extra.get(loc[0], {}):
            raise UsageError(f"{ENV_PREFIX}{loc[0].upper()}__{loc[1].upper()}: {first['msg']}") from None
        raise UsageError(f"config {path}: {'.'.join(loc)}: {first['msg']}") from None


def secrets_from_env() -> Secrets:
    env = os.environ
    try:
        return Secrets(
            slack_webhook_url=env.get("SLACK_WEBHOOK_URL") or None,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=int(env.get("SMTP_PORT") or 25),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            email_from=env.get("ALERT_EMAIL_FROM") or None,
            email_to=tuple(a.strip() for a in env.get("ALERT_EMAIL_TO", "").split(",") if a.strip()),
        )
    except (ValueError, ValidationError):
        raise UsageError("SMTP_PORT must be a port number") from None
