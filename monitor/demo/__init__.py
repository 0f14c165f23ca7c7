"""The generated shop: days of web events with injected incidents (``generator``), for the
demo, the tests and the benches.

May import: the foundation only."""
