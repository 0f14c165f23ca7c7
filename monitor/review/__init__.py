"""What people read after the run: Data Docs made to work offline (``docs_offline``), the
self-contained HTML report (``report``) and backtests of stored days (``backtest``).

May import: the foundation, ``monitor.store``, ``monitor.rules``, ``monitor.verdict.summary``
and the GX project code."""
