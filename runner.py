"""The one entry point: `python runner.py --help`."""

import sys

from monitor.cli import main

if __name__ == "__main__":
    sys.exit(main())
