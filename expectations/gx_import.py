"""Great Expectations, imported once per process, with analytics off and quiet logs."""

from __future__ import annotations

import logging
import os
from functools import cache
from types import ModuleType


@cache  # once per process: a history load asks for it with every file's result
def great_expectations() -> ModuleType:
    """The ``great_expectations`` module, with analytics off and its loggers at warnings."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
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
