"""The one entry point from a checkout: `python runner.py --help` (installed: `event-monitor`)."""

from monitor.cli import run

if __name__ == "__main__":
    run()
