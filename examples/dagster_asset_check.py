"""Dagster: the monitor's verdict for a day as a blocking asset check on the raw events asset.

The check runs `runner.py run` for the partition (yesterday, UTC, when the run
has no partition key) and blocks downstream assets when the verdict is critical
(exit code 1); exit codes 2 and 3 raise.
"""

from __future__ import annotations

import json
import subprocess

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, DailyPartitionsDefinition,
                     Definitions, asset, asset_check)

MONITOR = ["/opt/event-monitor/.venv/bin/python", "/opt/event-monitor/runner.py"]
daily = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


def load_command(day: str) -> list[str]:
    """A retried materialisation replaces the day's rows instead of adding a copy."""
    return MONITOR + ["load", f"/data/exports/events_{day}.csv", "--date", day, "--replace"]


def gate_command(day: str | None) -> list[str]:
    """Without a partition key the runner validates yesterday (UTC) and names it in its JSON."""
    return MONITOR + ["run", "--json"] + (["--date", day] if day else [])


def gate_result(proc: subprocess.CompletedProcess) -> dict:
    """The check's outcome from the runner's exit code and JSON summary."""
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr.strip() or f"runner exited {proc.returncode}")
    summary = json.loads(proc.stdout.splitlines()[-1])
    return {"passed": proc.returncode == 0, "critical": summary["status"] == "critical",
            "metadata": {"date": summary["date"], "status": summary["status"],
                         "alerts": [a["message"] for a in summary["alerts"]], "run_id": summary["run_id"]}}


@asset(partitions_def=daily)
def raw_web_events(context: AssetExecutionContext) -> None:
    subprocess.run(load_command(context.partition_key), check=True)


@asset_check(asset=raw_web_events, blocking=True)
def event_data_quality(context) -> AssetCheckResult:
    day = context.partition_key if context.has_partition_key else None
    result = gate_result(subprocess.run(gate_command(day), capture_output=True, text=True))
    return AssetCheckResult(
        passed=result["passed"],
        severity=AssetCheckSeverity.ERROR if result["critical"] else AssetCheckSeverity.WARN,
        metadata=result["metadata"],
    )


defs = Definitions(assets=[raw_web_events], asset_checks=[event_data_quality])
