"""GX's faster import (monitor/verdict/fast_import.py): a deferred module is created empty
and runs the first time code reads from it."""

from __future__ import annotations

import sys

import pytest

from monitor.verdict.fast_import import fast_import


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package of its own on sys.path, counting the runs of its body; forgotten afterwards."""
    name = f"fi_pkg_{tmp_path.name.replace('-', '_')}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("import sys\nsys.fi_runs = getattr(sys, 'fi_runs', 0) + 1\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "fi_runs", 0, raising=False)
    yield name
    sys.modules.pop(name, None)


def test_a_deferred_module_runs_on_first_use(package):
    with fast_import(package):
        module = __import__(package)
        assert sys.fi_runs == 0
    assert module.VALUE == 42 and sys.fi_runs == 1


def test_a_module_not_deferred_runs_at_import(package):
    with fast_import("some.other.module"):
        __import__(package)
        assert sys.fi_runs == 1
