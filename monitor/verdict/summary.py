"""Turn GX validation results into the contract's per-day summary (README, "Command line")."""

from __future__ import annotations

import contextvars
import datetime as dt
from dataclasses import dataclass, field

SEVERITY_RANK = {"pass": 0, "warning": 1, "critical": 2}
# the spark engine: a team's suites' results on the lake day's rows, run just before the
# checkpoint whose actions summarise the run (verdict.gx_project.run_lake_suites)
lake_results: contextvars.ContextVar[list] = contextvars.ContextVar("lake_results", default=[])


@dataclass(frozen=True)
class CheckResult:
    suite: str
    check: str
    category: str
    severity: str
    status: str  # pass, warning, critical, skipped, error
    observed: object
    expected: str
    message: str
    low: float | None = None
    high: float | None = None
    baseline: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("warning", "critical", "error")

    @property
    def gate_severity(self) -> str:
        """A check that could not run vouches for nothing: it closes the gate whatever its severity."""
        return "critical" if self.status == "error" else self.severity

    def alert(self) -> dict:
        body = {"check": self.check, "category": self.category, "severity": self.gate_severity,
                "message": self.message, "observed": self.observed, "expected": self.expected}
        if (self.details or {}).get("segments"):  # README, "Results, alerts and gating": the segments that explain the change
            body["segments"] = self.details["segments"]
        if (self.details or {}).get("samples"):  # and the offending rows, by file and line
            body["samples"] = self.details["samples"]
        return body


@dataclass(frozen=True)
class DaySummary:
    date: str
    run_id: str
    run_time: dt.datetime
    results: tuple[CheckResult, ...]

    @property
    def alerts(self) -> list[CheckResult]:
        return [r for r in self.results if r.failed]

    @property
    def status(self) -> str:
        worst = max((SEVERITY_RANK.get(a.gate_severity, 2) for a in self.alerts), default=0)
        return {0: "pass", 1: "warning", 2: "critical"}[worst]

    def to_json(self) -> dict:
        return {"date": self.date, "status": self.status,
                "alerts": [a.alert() for a in self.alerts],
                "checks": len(self.results),
                "passed": sum(r.status == "pass" for r in self.results),
                "skipped": sum(r.status == "skipped" for r in self.results),
                "run_id": self.run_id}


def _status(success: bool, severity: str, skipped: bool, errored: bool) -> str:
    if errored:
        return "error"
    if skipped:
        return "skipped"
    if success:
        return "pass"
    return "critical" if severity == "critical" else "warning"


def _exception_message(info) -> str | None:
    """GX nests exception info per metric id, or puts it flat; find the first raised one."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _short(cfg) -> str:
    """A readable form of a team's expectation: ``values_to_be_in_set(currency)``."""
    kind = str(cfg.type).removeprefix("expect_").removeprefix("column_")
    kind = kind.removesuffix("_expectation")
    column = (cfg.kwargs or {}).get("column") or ",".join((cfg.kwargs or {}).get("column_list") or [])
    return f"{kind}({column})" if column else kind


def _digest(cfg) -> str:
    import hashlib
    import json

    kwargs = {k: v for k, v in (cfg.kwargs or {}).items() if k not in ("result_format", "catch_exceptions")}
    return hashlib.sha1(json.dumps([cfg.type, kwargs], sort_keys=True, default=str).encode()).hexdigest()[:6]


def team_check_names(suite_name: str, configs: list) -> list[str]:
    """Stable, distinct check names for a team's expectations: ``meta.check`` when it says
    one, else the suite and a short form of the expectation and its column; two of the
    same short form are told apart by a digest of their arguments (and, identical, by
    their order), so no two results of one run collide."""
    bases = [str((c.meta or {}).get("check") or f"{suite_name}.{_short(c)}") for c in configs]
    names = [f"{b}~{_digest(c)}" if bases.count(b) > 1 else b for b, c in zip(bases, configs)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def _custom_message(cfg, result: dict, success: bool) -> tuple[str, str, dict]:
    """What a team's expectation found, in GX's own counts and values (up to 20)."""
    kwargs = {k: v for k, v in (cfg.kwargs or {}).items() if k not in ("result_format", "catch_exceptions")}
    expected = f"{cfg.type} {kwargs}"[:300]
    details = {k: result[k] for k in ("element_count", "unexpected_count", "unexpected_percent", "missing_count",
                                      "partial_unexpected_list", "observed_value") if k in result}
    rows = (result.get("details") or {}).get("unexpected_rows")
    if rows:
        details["unexpected_rows"] = rows[:20]
    if success:
        return "as expected", expected, details
    if "unexpected_count" in result:
        values = [repr(v) for v in (result.get("partial_unexpected_list") or [])[:20]]
        pct = result.get("unexpected_percent")
        message = (f"{result['unexpected_count']} of {result.get('element_count', '?')} rows unexpected"
                   + (f" ({pct:.2f}%)" if isinstance(pct, (int, float)) else "")
                   + (": " + ", ".join(values) if values else ""))
    else:
        message = f"observed {result.get('observed_value')!r}"
        if rows:
            message += f": first rows {rows[:3]!r}"[:400]
    return message, expected, details


def check_results(suite_name: str, suite_result) -> list[CheckResult]:
    out = []
    team = [r.expectation_config for r in suite_result.results if "check" not in (r.expectation_config.meta or {})
            or (r.expectation_config.meta or {}).get("owner") is None]
    names = dict(zip(map(id, team), team_check_names(suite_name, team)))
    for r in suite_result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        severity = str(getattr(cfg, "severity", None) or cfg.get("severity") or "critical")
        severity = severity.split(".")[-1].lower()
        severity = "warning" if severity == "info" else severity
        result = r.result or {}
        if id(cfg) in names:  # a team's expectation (CONTRACT section 9): category custom, GX's counts
            message, expected, details = _custom_message(cfg, result, bool(r.success))
            error = _exception_message(r.exception_info)
            if error is not None:
                message = f"{names[id(cfg)]}: check failed to run: {error[:300]}"
            out.append(CheckResult(
                suite=suite_name, check=names[id(cfg)], category="custom", severity=severity,
                status=_status(bool(r.success), severity, False, error is not None),
                observed=_observed(result), expected=expected, message=message, details=details))
            continue
        details = dict(result.get("details") or {})
        severity = details.get("severity") or severity  # a check may escalate (bot_share above its critical share)
        error = _exception_message(r.exception_info)
        errored = error is not None
        message = details.get("message") or ""
        if errored:
            message = f"{meta.get('check', cfg.type)}: check failed to run: {error[:300]}"
        observed = result.get("observed_value")
        if isinstance(observed, float):
            # 9 significant digits: what a person reads, and the same whichever engine summed it
            observed = int(observed) if observed.is_integer() else float(f"{observed:.9g}")
        out.append(CheckResult(
            suite=suite_name, check=meta.get("check", cfg.type), category=meta.get("category", "field_health"),
            severity=severity, status=_status(bool(r.success), severity, bool(details.get("skipped")), errored),
            observed=observed, expected=details.get("expected", ""), message=message,
            low=_number(details.get("low")), high=_number(details.get("high")),
            baseline=_number(details.get("baseline")), details=details))
    return out


def _observed(result: dict):
    if "unexpected_count" in result:
        return result["unexpected_count"]
    value = result.get("observed_value")
    return value if isinstance(value, (int, float, str, type(None))) else str(value)[:200]


def summarize(checkpoint_result) -> DaySummary:
    run_id = checkpoint_result.run_id
    run_name = run_id.run_name
    results: list[CheckResult] = []
    for identifier, suite_result in [*checkpoint_result.run_results.items(), *lake_results.get()]:
        suite = suite_result.suite_name or identifier.expectation_suite_identifier.name
        results.extend(check_results(suite, suite_result))
    run_time = run_id.run_time or dt.datetime.now(dt.timezone.utc)
    return DaySummary(date=run_name[:10], run_id=run_name, run_time=run_time, results=tuple(results))
