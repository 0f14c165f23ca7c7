"""GX's faster import (monitor/verdict/fast_import.py): modules deferred until used, and
packages GX would import for features we do not use (pyspark) left out for the importing
thread only, so the Spark engine's thread still imports them."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from monitor.verdict.fast_import import fast_import


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package of its own on sys.path, recording when its body runs; forgotten afterwards."""
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


def test_an_absent_package_is_absent_for_this_thread_only(package):
    seen = {}

    def other():
        seen["value"] = __import__(package).VALUE

    with fast_import(absent=(package,)):
        with pytest.raises(ModuleNotFoundError, match=package):
            __import__(package)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == {"value": 42}  # the other thread imported it meanwhile
    assert __import__(package).VALUE == 42  # and after the block this thread does too


def test_gx_imports_without_pyspark_and_the_spark_engine_still_can():
    code = ("import sys; import monitor.verdict.gx_project; assert 'pyspark' not in sys.modules, 'GX imported pyspark'; "
            "import pyspark.sql; print(pyspark.sql.SparkSession.__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "SparkSession", proc.stderr[-2000:]
