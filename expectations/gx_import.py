"""Great Expectations, imported once per process, quiet and without what rxstaff never runs.

GX imports every core expectation when it is imported, and one of them (the KL
divergence) imports ``scipy.stats`` and Vega-Altair (to draw its histograms): 1.8 s of
a 4.8 s import on a slow machine, and 0.12 s of the 1.17 s left on a fast one, paid on
the critical path of every run GX validates or cross-checks. No rule in rxstaff's suites
is a statistical test, so until GX is imported each of them stands as a module that
imports the real one on its first use: GX runs unchanged, and an expectation that needs
one pays its import then.
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

# Imported by GX's KL-divergence expectation at its top, used only inside its functions.
DEFERRED = ("scipy.stats", "altair")


class ImportedOnFirstUse(ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is read; then
    the real module is imported, takes its place, and answers."""

    def __getattr__(self, attribute: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


@cache  # once per process: a history load asks for it with every file's result
def great_expectations() -> ModuleType:
    """The ``great_expectations`` module, with analytics off and its loggers at warnings."""
    if "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        defer_unused_imports()
    import great_expectations as gx

    quiet_below_warnings("great_expectations")
    return gx


def quiet_below_warnings(package: str) -> None:
    """The package's loggers at warnings: GX sets one of its own to INFO at import, which
    put a temporary folder's path in every night's log."""
    logging.getLogger(package).setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not (name.startswith(f"{package}.") and isinstance(logger, logging.Logger)):
            continue
        if logging.NOTSET < logger.level < logging.WARNING:
            logger.setLevel(logging.NOTSET)  # the package's level, then


def defer_unused_imports() -> None:
    """Put each ``DEFERRED`` module off until it is used (not one already imported, nor
    one that is not installed: its import error stays GX's to raise)."""
    for name in DEFERRED:
        if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is not None:
            sys.modules[name] = ImportedOnFirstUse(name)
