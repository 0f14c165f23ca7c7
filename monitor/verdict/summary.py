"""Turn GX validation results into the contract's per-day summary (README, "Command line")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SEVERITY_RANK = {"pass": 0, "warning": 1, "critical": 2}


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


def check_results(suite_name: str, suite_result) -> list[CheckResult]:
    out = []
    for r in suite_result.results:
        cfg = r.expectation_config
        meta = cfg.meta or {}
        severity = str(getattr(cfg, "severity", None) or cfg.get("severity") or "critical")
        severity = severity.split(".")[-1].lower()
        result = r.result or {}
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


def summarize(checkpoint_result) -> DaySummary:
    run_id = checkpoint_result.run_id
    run_name = run_id.run_name
    results: list[CheckResult] = []
    for identifier, suite_result in checkpoint_result.run_results.items():
        suite = suite_result.suite_name or identifier.expectation_suite_identifier.name
        results.extend(check_results(suite, suite_result))
    run_time = run_id.run_time or dt.datetime.now(dt.timezone.utc)
    return DaySummary(date=run_name[:10], run_id=run_name, run_time=run_time, results=tuple(results))
