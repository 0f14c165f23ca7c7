"""Headless Chromium (Debian's package) with the network blocked: pages as a person offline sees them."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # every host name resolves to nothing: no request leaves the machine
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000"]


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Chromium is missing: run tests/install-system-deps.sh (the README's test command does)"
    return path


def _run(page: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                              capture_output=True, text=True, timeout=120)


def rendered_dom(page: Path) -> str:
    """The DOM after the page's scripts ran."""
    proc = _run(page, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 1000) -> Path:
    proc = _run(page, f"--screenshot={out}", f"--window-size={width},{height}")
    assert proc.returncode == 0 and out.exists(), proc.stderr[-2000:]
    return out
