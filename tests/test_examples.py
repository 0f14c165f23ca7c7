"""The orchestration examples parse and call the runner with its real commands."""

from __future__ import annotations

import ast
import re

import pytest

from monitor.cli import build_parser
from monitor.settings import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples"
COMMANDS = set(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("name", ["airflow_dag.py", "dagster_asset_check.py"])
def test_python_examples_parse(name):
    source = (EXAMPLES / name).read_text()
    ast.parse(source)
    assert "runner.py" in source


def test_crontab_lines_are_valid_and_use_real_commands():
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert lines
    for line in lines:
        fields = line.split(None, 5)
        assert len(fields) == 6
        for field, (low, high) in zip(fields[:5], [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]):
            assert field == "*" or low <= int(field) <= high, line
        used = re.findall(r"runner\.py (\w+)", fields[5])
        assert used and set(used) <= COMMANDS, used
