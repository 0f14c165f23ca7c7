"""Airflow: load yesterday's events, gate them, and only then run the downstream models.

BashOperator fails the task on a non-zero exit code, so a critical alert (exit 1)
stops `transform` and everything after it. The load uses --replace, so Airflow's
retries (and a manual "clear") replace the day's rows instead of adding a copy.
The gate is not retried: exit 1 is an answer, and a retry would only give it again
(once the data is fixed, "clear" the gate task).
"""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

MONITOR = "cd /opt/event-monitor && .venv/bin/python runner.py"

with DAG(
    dag_id="web_events_daily",
    schedule="30 5 * * *",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2},
) as dag:
    load = BashOperator(
        task_id="load_events",
        bash_command=MONITOR + " load /data/exports/events_{{ ds }}.csv --date {{ ds }} --replace",
    )
    gate = BashOperator(
        task_id="data_quality_gate",
        bash_command=MONITOR + " run --date {{ ds }} --json",
        retries=0,
    )
    transform = BashOperator(task_id="transform", bash_command="cd /opt/dbt && dbt build --select events+")
    load >> gate >> transform
