#!/usr/bin/env bash
# dbt behind the monitor's gate: validate the day, and build the event models only
# when the gate is open. `run-operation event_monitor_gate` checks the stored
# verdict again from inside dbt (the same monitor.day_gate view `status` reads),
# so a late load between the two steps still stops the models.
#
#   examples/dbt/run_after_gate.sh [YYYY-MM-DD]     (default: yesterday, UTC)
#
# Exit codes: 0 models built; 1 the gate is closed (critical or stale verdict);
# 2 / 3 the monitor's usage / infrastructure errors; anything else is dbt's.
set -uo pipefail
DAY="${1:-$(date -u -d yesterday +%F)}"
MONITOR="${MONITOR:-/opt/event-monitor/.venv/bin/python /opt/event-monitor/runner.py}"
DBT="${DBT:-dbt}"

$MONITOR run --date "$DAY" --json
code=$?
if [ "$code" -ne 0 ]; then
  echo "event monitor: gate closed for $DAY (exit $code); dbt models not built" >&2
  exit "$code"
fi
$DBT run-operation event_monitor_gate --args "{day: '$DAY'}" || exit 1
exec $DBT build --select "source:web_events+"
