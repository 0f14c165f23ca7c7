"""Import GX faster: its unused heavy modules load on first use, and the cycle collector waits.

GX imports scipy.stats, altair and jsonschema at start-up for distribution
and JSON-schema expectations and chart renderers this project does not use;
on the 2-core bench machine they are about 1.6 s of every run's start. Inside
``fast_import`` they are created empty and executed the first time code reads
an attribute, so code that does use them still works. The cycle collector
would also walk the hundreds of thousands of objects an import creates,
several times over, finding nothing to free; it is paused for the block and
those long-lived objects are then frozen out of later collections.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.abc
import importlib.util
import sys


class _DeferringFinder(importlib.abc.MetaPathFinder):
    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


@contextlib.contextmanager
def fast_import(*deferred: str):
    """Within the block, importing one of ``deferred`` yields a module loaded on first attribute access."""
    finder = _DeferringFinder(frozenset(deferred))
    sys.meta_path.insert(0, finder)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        if was_enabled:
            gc.enable()
        gc.freeze()
