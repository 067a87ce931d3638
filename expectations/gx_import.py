"""Great Expectations, imported once per process, quiet and without what rxstaff never runs.

GX imports every core expectation when it is imported, and one of them (the KL
divergence) imports ``scipy.stats``: about a quarter of GX's import (~1 s of ~4.5 s on
two cores), paid on the critical path of every run GX validates or cross-checks. No
rule in rxstaff's suites is a statistical test, so until GX is imported ``scipy.stats``
stands as a module that imports the real one on its first use: GX runs unchanged, and an
expectation that needs the statistics pays their import then.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from functools import cache
from types import ModuleType
from typing import Any

STATISTICS = "scipy.stats"


class ImportedOnFirstUse(ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is read; then
    the real module is imported, takes its place, and answers."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


@cache  # once per process: a history load asks for it with every file's result
def great_expectations() -> ModuleType:
    """The ``great_expectations`` module, with analytics off and its logger at warnings."""
    if "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        defer_statistics()
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx


def defer_statistics() -> None:
    """Put ``scipy.stats`` off until it is used (not if it is already imported)."""
    if STATISTICS not in sys.modules and importlib.util.find_spec("scipy") is not None:
        sys.modules[STATISTICS] = ImportedOnFirstUse(STATISTICS)
