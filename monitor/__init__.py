"""The event monitor, laid out as the data flows (README, "How it works"):

- ``sources``: where rows come from (files loaded into events.raw_events);
- ``engines``: where a day's metrics are computed (postgres, spark), behind one registry;
- ``store``: the database: connection, schema, metrics store, run results, user agents;
- ``rules``: the baseline arithmetic and the catalogue of metrics the checks read
  (the GX expectations that wrap them are ``custom_expectations/``);
- ``verdict``: a day's run, its lock and thread, the GX checkpoint, the summary and gate;
- ``delivery``: Slack, email, the notification policy and digest;
- ``review``: Data Docs offline, the HTML report, backtests;
- ``cli``: the command line; ``demo``: the generated shop.

Top-level modules are the foundation every room may import: ``settings``,
``errors``, ``outcome``, ``project``. Rooms import downwards only (sources,
engines -> store -> foundation); tests/test_layout.py checks that no module
imports another in a cycle.

Installed, the GX project's code lives under this package (``monitor.expectations``,
``monitor.checkpoints``, ``monitor.custom_expectations``), so nothing lands in
site-packages under a generic top-level name. In a source checkout those are the
top-level folders; the finder below makes ``monitor.<name>`` the same module
objects as ``<name>``. It also keeps the modules' names from before the rooms
(``monitor.loader``, ``monitor.pipeline``, ...) importable, as the same objects.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from pathlib import Path

_SPLIT = ("expectations", "checkpoints", "custom_expectations")
_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parent
_IN_CHECKOUT = not (_HERE / "expectations").is_dir() and (_CHECKOUT / "expectations" / "__init__.py").is_file()

# the flat names of earlier releases -> where the module lives now
LEGACY = {
    "monitor.loader": "monitor.sources.loader",
    "monitor.database": "monitor.store.database",
    "monitor.results_store": "monitor.store.results",
    "monitor.devices": "monitor.store.devices",
    "monitor.channels": "monitor.engines.channels",
    "monitor.backends": "monitor.engines",
    "monitor.backends.postgres": "monitor.engines.postgres",
    "monitor.backends.spark": "monitor.engines.spark",
    "monitor.day_pass": "monitor.verdict.day_run",
    "monitor.pipeline": "monitor.verdict.pipeline",
    "monitor.summary": "monitor.verdict.summary",
    "monitor.gx_project": "monitor.verdict.gx_project",
    "monitor.fast_import": "monitor.verdict.fast_import",
    "monitor.notify": "monitor.delivery.notify",
    "monitor.stories": "monitor.delivery.stories",
    "monitor.report": "monitor.review.report",
    "monitor.docs_offline": "monitor.review.docs_offline",
    "monitor.backtest": "monitor.review.backtest",
    "monitor.generator": "monitor.demo.generator",
    "monitor.commands": "monitor.cli.commands",
}


class _SameModule(importlib.abc.Loader):
    def __init__(self, real: str):
        self.real = real

    def create_module(self, spec):
        return importlib.import_module(self.real)

    def exec_module(self, module) -> None:
        pass  # the real module ran already


class _AliasFinder(importlib.abc.MetaPathFinder):
    """An alias name -> the module it stands for (one object under both names)."""

    def find_spec(self, fullname, path=None, target=None):
        real = LEGACY.get(fullname)
        parts = fullname.split(".")
        if real is None and _IN_CHECKOUT and len(parts) > 1 and parts[0] == __name__ and parts[1] in _SPLIT:
            if str(_CHECKOUT) not in sys.path:
                sys.path.append(str(_CHECKOUT))
            real = ".".join(parts[1:])  # monitor.expectations.checks -> expectations.checks
        if real is None:
            return None
        return importlib.util.spec_from_loader(fullname, _SameModule(real), is_package=True)


sys.meta_path.insert(0, _AliasFinder())
