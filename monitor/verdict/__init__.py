"""A day's verdict: the run (its lock, its row, the metrics pass in a background thread:
``day_run``), the GX project and checkpoint (``gx_project``, the only place GX is set up),
the run from start to stored results (``pipeline``), the summary the gate reads
(``summary``), and intraday runs of the day so far, which never touch the gate
(``intraday``).

May import: everything below it (foundation, store, sources, engines, rules), the GX
project code (``monitor.expectations``, ``monitor.checkpoints``,
``monitor.custom_expectations``) and ``monitor.delivery``."""
