"""Which folder is the monitor project: its ``monitor.toml``, ``gx/`` and ``.monitor/`` state.

The installed package holds only code. A project is any folder that
``event-monitor init`` made one (as with GX, dbt or Soda): ``$MONITOR_PROJECT``,
else the nearest folder upward from the working directory holding a
``monitor.toml``, else this source checkout when run from one, else the
working directory itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from monitor.errors import UsageError

CONFIG_NAME = "monitor.toml"
# the source checkout when run from one; site-packages when installed
CODE_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"


def _from_environment() -> Path | None:
    named = os.environ.get("MONITOR_PROJECT")
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_dir():
        raise UsageError(f"MONITOR_PROJECT={named}: no such folder")
    return path.resolve()


def _is_checkout(path: Path) -> bool:
    return (path / CONFIG_NAME).is_file() and (path / "runner.py").is_file()


def project_dir() -> Path:
    """The project every command reads and writes (see the module docstring for the order)."""
    named = _from_environment()
    if named:
        return named
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return CODE_ROOT if _is_checkout(CODE_ROOT) else cwd


def init_dir() -> Path:
    """Where ``init`` makes a project: ``$MONITOR_PROJECT`` or the working directory."""
    return _from_environment() or Path.cwd().resolve()


def gx_root() -> Path:
    """The folder holding ``gx/``: the project's, unless ``$MONITOR_GX_ROOT`` names another."""
    return Path(os.environ.get("MONITOR_GX_ROOT") or project_dir())


def state_dir() -> Path:
    """Local state (the embedded server's data, the demo's files): ``$MONITOR_HOME`` or ``.monitor/``."""
    return Path(os.environ.get("MONITOR_HOME") or project_dir() / ".monitor")


def create(folder: Path) -> list[Path]:
    """Write a new project's ``monitor.toml`` and ``gx/great_expectations.yml`` where missing."""
    made = []
    gx_folder = Path(os.environ.get("MONITOR_GX_ROOT") or folder)
    for template, target in (("monitor.toml", folder / CONFIG_NAME),
                             ("great_expectations.yml", gx_folder / "gx" / "great_expectations.yml")):
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(TEMPLATES / template, target)
            made.append(target)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(".monitor/\ngx/uncommitted/\n")
        made.append(ignore)
    return made
