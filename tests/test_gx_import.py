"""What importing the flow and Great Expectations does to a process: each in a fresh one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.xdist_group("gx_import")


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_flow_leaves_great_expectations_unimported() -> None:
    seen = _fresh(
        "import json, sys, rxstaff.flows.nightly\n"
        "print(json.dumps({'gx': 'great_expectations' in sys.modules}))"
    )
    assert seen == {"gx": False}


def test_great_expectations_logs_nothing_below_warnings() -> None:
    seen = _fresh(
        "import json, logging\n"
        "from rxstaff.expectations.gx_import import great_expectations\n"
        "great_expectations()\n"
        "levels = {n: logging.getLogger(n).getEffectiveLevel()"
        " for n in logging.root.manager.loggerDict if n.startswith('great_expectations')}\n"
        "print(json.dumps(levels))"
    )
    assert "great_expectations.data_context.types.base" in seen  # the one GX sets to INFO
    assert {name: level for name, level in seen.items() if level < 30} == {}
