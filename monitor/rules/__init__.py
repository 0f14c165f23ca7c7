"""The rules behind the checks, free of GX: the baseline arithmetic every expectation runs
(``baseline``) and the catalogue of the metrics the checks read (``catalogue``). The GX
expectations that wrap them are ``custom_expectations/``; the suites are ``expectations/``.

May import: the foundation only."""
