"""Where rows come from: files loaded into events.raw_events (``loader``), kept as
received, line by line. The lake is read by the Spark engine where it lies.

May import: the foundation (settings, errors, outcome, project) and ``monitor.store``."""
