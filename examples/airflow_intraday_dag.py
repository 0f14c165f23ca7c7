"""Airflow: watch the day as it arrives. Every hour, load the hour's file, then judge the
day so far (README, "Within the day").

The intraday task pages by itself, once per incident, and a critical finding (exit 1)
marks its run red; nothing downstream waits on it: the day's gate is the daily DAG's
(airflow_dag.py). The hour that ends at midnight is judged as the whole of its day.
"""

from __future__ import annotations

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

MONITOR = "cd /opt/event-monitor && .venv/bin/python runner.py"

with DAG(
    dag_id="web_events_intraday",
    schedule="5 * * * *",  # the interval [HH:05, HH+1:05) loads the file of hour HH
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 1},
) as dag:
    load = BashOperator(
        task_id="load_hour",
        bash_command=MONITOR + " load /data/exports/events_{{ data_interval_start.strftime('%Y-%m-%d_%H') }}.csv"
                               " --date {{ data_interval_start | ds }} --replace",
    )
    watch = BashOperator(
        task_id="intraday",
        bash_command=MONITOR + " intraday --date {{ data_interval_start | ds }}"
                               " --until {{ '24:00' if data_interval_end.hour == 0 else data_interval_end.strftime('%H:00') }}"
                               " --json",
        retries=0,
    )
    load >> watch
