"""What importing the flow and Great Expectations costs a run: each in a fresh interpreter."""

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
        "print(json.dumps({'gx': 'great_expectations' in sys.modules,"
        " 'scipy.stats': 'scipy.stats' in sys.modules, 'altair': 'altair' in sys.modules}))"
    )
    assert seen == {"gx": False, "scipy.stats": False, "altair": False}


STATISTICS_ON_FIRST_USE = """
import json, sys
from rxstaff.expectations.gx_import import ImportedOnFirstUse, great_expectations
gx = great_expectations()
def state():
    return {
        "real statistics loaded": "scipy.stats._stats_py" in sys.modules,
        "stand-in": isinstance(sys.modules["scipy.stats"], ImportedOnFirstUse),
        "real altair loaded": "altair.vegalite" in sys.modules,
        "altair stand-in": isinstance(sys.modules["altair"], ImportedOnFirstUse),
    }
before = state()
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
via_gx = float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1]))
chart = kl.alt.Chart  # what GX draws a histogram with
import scipy.stats
import scipy.stats.distributions
import altair
after = state()
direct = float(scipy.stats.entropy([0.5, 0.5], [0.9, 0.1]))
print(json.dumps({"before": before, "after": after, "via_gx": via_gx, "direct": direct,
                  "same chart": chart is altair.Chart,
                  "suite": gx.ExpectationSuite(name="s").name}))
"""


def test_gx_imports_statistics_and_charts_only_when_an_expectation_uses_them() -> None:
    seen = _fresh(STATISTICS_ON_FIRST_USE)
    assert seen["before"] == {
        "real statistics loaded": False,
        "stand-in": True,
        "real altair loaded": False,
        "altair stand-in": True,
    }
    # The first use imports the real module, which takes the stand-in's place
    assert seen["after"] == {
        "real statistics loaded": True,
        "stand-in": False,
        "real altair loaded": True,
        "altair stand-in": False,
    }
    assert seen["via_gx"] == seen["direct"] and seen["direct"] > 0
    assert seen["same chart"]
    assert seen["suite"] == "s"


def test_statistics_already_imported_are_left_as_they_are() -> None:
    seen = _fresh(
        "import json, sys, scipy.stats\n"
        "real = sys.modules['scipy.stats']\n"
        "from rxstaff.expectations.gx_import import great_expectations\n"
        "great_expectations()\n"
        "print(json.dumps({'same': sys.modules['scipy.stats'] is real}))"
    )
    assert seen == {"same": True}


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
