"""The rules behind the checks, free of GX: the baseline arithmetic every expectation runs
(``baseline``), the catalogue of the metrics the checks read (``catalogue``), and the
rules of intraday runs over 15-minute slots (``intraday``). The GX
expectations that wrap them are ``custom_expectations/``; the suites are ``expectations/``.

May import: the foundation only."""
