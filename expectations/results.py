"""Validation results kept as Great Expectations keeps them, and Data Docs built from them.

Each run stores, per validated file, a GX ``ExpectationSuiteValidationResult`` in a
file-backed GX project (``gx/`` beside a DuckDB warehouse, or under
$RXSTAFF_GX_HOME), and builds the project's Data Docs: a browsable site of every run's
expectations, the failed ones marked. The results are built from what either engine
found (GX itself or its vectorised twin), so a history load's results sit in the same
store. They hold counts only: never an unexpected value, which could be an employee id.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd

from rxstaff.expectations.suite import Rule

VALIDATIONS = "validations"


class ValidationStore:
    """A file-backed GX project that keeps each run's results and its Data Docs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.keys: list[Any] = []
        self._context: Any = None

    @property
    def context(self) -> Any:
        """The GX project, opened on first use: a night with nothing new to validate pays
        neither GX's import nor its configuration."""
        if self._context is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            import great_expectations as gx

            logging.getLogger("great_expectations").setLevel(logging.WARNING)
            self.root.mkdir(parents=True, exist_ok=True)
            self._context = gx.get_context(mode="file", project_root_dir=str(self.root))
        return self._context

    def record(
        self,
        suite_name: str,
        rules: list[Rule],
        unexpected: Mapping[str, int],
        rows: int,
        run_id: str,
        file_name: str,
        engine: str,
    ) -> None:
        """One file's validation: each rule with how many of its rows it found unexpected
        (``unexpected``: rows by rule name)."""
        from great_expectations.core import (
            ExpectationSuiteValidationResult,
            ExpectationValidationResult,
        )
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        results = []
        for rule in rules:
            count = int(unexpected.get(rule.rule, 0))
            config = ExpectationConfiguration(
                type=rule.type, kwargs=_shown(rule.kwargs), meta={"rule": rule.rule}
            )
            results.append(
                ExpectationValidationResult(
                    success=count == 0,
                    expectation_config=config,
                    result={
                        "element_count": rows,
                        "unexpected_count": count,
                        "unexpected_percent": 100.0 * count / rows if rows else 0.0,
                    },
                )
            )
        failed = sum(1 for r in results if not r.success)
        now = datetime.now(UTC)
        run = RunIdentifier(run_name=run_id, run_time=now)
        batch = file_name.replace("/", "__")
        validation = ExpectationSuiteValidationResult(
            success=failed == 0,
            results=results,
            suite_name=suite_name,
            meta={
                "run_id": run,
                "validation_time": now.isoformat(),
                "engine": engine,
                "active_batch_definition": {
                    "datasource_name": "landing",
                    "data_connector_name": "rxstaff",
                    "data_asset_name": file_name,
                    "batch_identifiers": {},
                },
            },
            statistics={
                "evaluated_expectations": len(results),
                "successful_expectations": len(results) - failed,
                "unsuccessful_expectations": failed,
                "success_percent": 100.0 * (len(results) - failed) / len(results)
                if results
                else 100.0,
            },
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run,
            batch_identifier=batch,
        )
        self.context.validation_results_store.set(key, validation)
        self.keys.append(key)

    def build_docs(self) -> Path:
        """The Data Docs site, rebuilt with this run's results; its index page."""
        # Only this run's pages are rendered (earlier runs' pages stay); the index lists all.
        sites = self.context.build_data_docs(resource_identifiers=self.keys)
        return Path(url2pathname(urlparse(sites["local_site"]).path))


def _shown(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Kwargs as Data Docs shows them: a long reference list is summarised."""
    shown = dict(kwargs)
    values = shown.get("value_set")
    if isinstance(values, list) and len(values) > 12:
        shown["value_set"] = [*values[:12], f"... {len(values) - 12} more"]
    return shown


def unexpected_by_rule(failures: pd.DataFrame, file_no: int) -> Counter[str]:
    """Rows each rule found unexpected in one file of a validated chunk."""
    if not len(failures):
        return Counter()
    return Counter(failures.loc[failures["_file_no"] == file_no, "rule"])
