"""Moved to ``monitor.rules.baseline`` (the rules hold the arithmetic; expectations wrap it).
This name stays importable, as the same module."""

import sys

from monitor.rules import baseline as _baseline

sys.modules[__name__] = _baseline
