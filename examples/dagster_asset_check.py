"""Dagster: the monitor's verdict for a day as an asset check on the raw events asset.

The check runs `runner.py run` for the partition and blocks downstream assets
when the verdict is critical (exit code 1); exit codes 2 and 3 raise.
"""

from __future__ import annotations

import json
import subprocess

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, DailyPartitionsDefinition,
                     Definitions, asset, asset_check)

MONITOR = ["/opt/event-monitor/.venv/bin/python", "/opt/event-monitor/runner.py"]
daily = DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


@asset(partitions_def=daily)
def raw_web_events(context: AssetExecutionContext) -> None:
    day = context.partition_key
    subprocess.run(MONITOR + ["load", f"/data/exports/events_{day}.csv", "--date", day], check=True)


@asset_check(asset=raw_web_events, blocking=True)
def event_data_quality(context) -> AssetCheckResult:
    day = context.partition_key if context.has_partition_key else None
    proc = subprocess.run(MONITOR + ["run", "--date", day, "--json"], capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr.strip())
    summary = json.loads(proc.stdout.splitlines()[-1])
    return AssetCheckResult(
        passed=proc.returncode == 0,
        severity=AssetCheckSeverity.ERROR if summary["status"] == "critical" else AssetCheckSeverity.WARN,
        metadata={"status": summary["status"], "alerts": [a["message"] for a in summary["alerts"]],
                  "run_id": summary["run_id"]},
    )


defs = Definitions(assets=[raw_web_events], asset_checks=[event_data_quality])
