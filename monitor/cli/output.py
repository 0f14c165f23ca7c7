"""How commands print: one JSON object per line on stdout (logs go to stderr)."""

from __future__ import annotations

import json


def print_json(obj) -> None:
    print(json.dumps(obj, default=str), flush=True)
