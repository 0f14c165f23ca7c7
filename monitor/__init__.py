"""The event monitor. Installed, the GX project's code lives under this package
(``monitor.expectations``, ``monitor.checkpoints``, ``monitor.custom_expectations``),
so nothing lands in site-packages under a generic top-level name.

In a source checkout those three are the top-level folders the design asks for;
the finder below makes ``monitor.<name>`` the very same module objects as
``<name>``, so code, tests and GX's registry see one copy of each.
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


class _SameModule(importlib.abc.Loader):
    def __init__(self, real: str):
        self.real = real

    def create_module(self, spec):
        return importlib.import_module(self.real)

    def exec_module(self, module) -> None:
        pass  # the real module ran already


class _CheckoutFinder(importlib.abc.MetaPathFinder):
    """``monitor.expectations.checks`` -> the module ``expectations.checks`` of the checkout."""

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) < 2 or parts[0] != __name__ or parts[1] not in _SPLIT:
            return None
        if str(_CHECKOUT) not in sys.path:
            sys.path.append(str(_CHECKOUT))
        real = ".".join(parts[1:])
        return importlib.util.spec_from_loader(fullname, _SameModule(real), is_package=True)


if not (_HERE / "expectations").is_dir() and (_CHECKOUT / "expectations" / "__init__.py").is_file():
    sys.meta_path.insert(0, _CheckoutFinder())
