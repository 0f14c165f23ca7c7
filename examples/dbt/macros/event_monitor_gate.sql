{#
  dbt run-operation event_monitor_gate --args "{day: '2026-11-27'}"

  Fails (non-zero exit, so the next step does not run) unless the event
  monitor's gate for the day is open: a finished, current, non-critical
  verdict. It reads the view monitor.day_gate, the same one `runner.py status`
  reads; the profile's role needs only SELECT on schemas events and monitor.
  Use it as an on-run-start hook to gate every `dbt build`:
      on-run-start: ["{{ event_monitor_gate(var('event_day')) }}"]
#}
{% macro event_monitor_gate(day) %}
  {% set gate_sql %}
    select case when g.day is null then 'never run' else coalesce(g.reason, 'open') end as verdict
    from (select cast('{{ day }}' as date) as day) d
    left join monitor.day_gate g using (day)
  {% endset %}
  {% if execute %}
    {% set verdict = run_query(gate_sql).columns[0].values()[0] %}
    {% if verdict != 'open' %}
      {{ exceptions.raise_compiler_error("event monitor gate closed for " ~ day ~ ": " ~ verdict) }}
    {% endif %}
    {{ log("event monitor gate open for " ~ day, info=True) }}
  {% endif %}
{% endmacro %}
