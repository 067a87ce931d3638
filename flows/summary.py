"""What a run knows and did, per source, for the operator and the scheduler."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rxstaff.settings import ConfigurationError
from rxstaff.transforms.catalog import CatalogError
from rxstaff.transforms.source import Reference
from rxstaff.warehouse.batches import now
from rxstaff.warehouse.connection import WarehouseUnavailable
from rxstaff.warehouse.runs import RunRecord
from rxstaff.warehouse.schema import SchemaTooNew
from rxstaff.warehouse.settings import SecretMismatch


class LandingError(RuntimeError):
    """The landing folder itself cannot be used."""


# Failures before any change was attempted: nothing was rolled back, nothing recorded.
NOTHING_STARTED: tuple[type[BaseException], ...] = (
    LandingError,
    CatalogError,
    ConfigurationError,
    WarehouseUnavailable,
    SchemaTooNew,
    SecretMismatch,
)


@dataclass
class SourceSummary:
    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
    files_deferred: int = 0  # still arriving, or moved under the run: for a later run
    gx_sample_rows: int = 0  # rows GX itself checked where sql or vectorised validated
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class RunSummary:
    run_id: str
    warehouse: str
    sources: dict[str, SourceSummary] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)
    anomalies: dict[str, int] = field(default_factory=dict)
    failed: str | None = None
    # A landing folder that needs attention: ("stale landing" | "empty landing", message).
    landing_problem: tuple[str, str] | None = None
    report: str | None = None  # the staffing report this run wrote (its HTML file)
    busy: str | None = None  # another run held the warehouse: this one did not start
    validation_docs: str | None = None  # the Great Expectations Data Docs index of the run
    report_problem: str | None = None  # why it could not be written (the run still stands)
    cluster_chunks: int = 0  # chunks of files staged on a Dask cluster
    files_hashed: int = 0  # landing files read and hashed (the rest kept their stats)

    def source(self, name: str) -> SourceSummary:
        return self.sources.setdefault(name, SourceSummary())

    @property
    def loaded_any(self) -> bool:
        return any(s.files_loaded for s in self.sources.values())

    @property
    def status(self) -> str:
        """The outcome as ``etl_run.status`` records it (a failure is recorded apart)."""
        if self.busy:
            return "busy"
        if self.rejections:
            return "rejected files"
        if self.landing_problem:
            return self.landing_problem[0]
        return "succeeded" if self.loaded_any else "nothing new"

    @property
    def attention(self) -> str | None:
        """What an operator must look at, in words; None when nothing."""
        found = [
            *([self.busy] if self.busy else []),
            *self.rejections,
            *([self.landing_problem[1]] if self.landing_problem else []),
        ]
        return "; ".join(found) or None

    @property
    def exit_code(self) -> int:
        if self.failed:
            return 2
        return 1 if self.attention else 0


@dataclass
class RunContext:
    """What the tasks of one run share."""

    run_id: str
    run_date: date
    reference: Reference
    summary: RunSummary
    validation: str = "auto"
    started_at: datetime = field(default_factory=now)
    batch_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    roster_dates: list[date] = field(default_factory=list)  # snapshots staged this run
    roster_corrected: bool = False  # a loaded roster file was replaced
    flow_run_id: str | None = None
    validation_store: Any = None  # expectations.results.ValidationStore, when kept
    # Great Expectations' work of a run validated by SQL, in a process of its own
    companion: Any = None
    gx_beside: bool = False  # over AUTO_GX_MAX_BYTES of new files: validated by sql
    dask: str = "auto"  # where a history load stages (settings.dask)
    staging_area: str | None = None  # where Dask workers write staged Parquet
    stager: Any = None  # flows.ingest.Stager, while a Dask cluster stages this run's loads
    rehash: bool = False  # read and hash every landing file, whatever its stats

    def record(self, status: str, error: str | None = None) -> RunRecord:
        """The run's ``etl_run`` row as it stands."""
        totals = self.summary.sources.values()
        return RunRecord(
            run_id=self.run_id,
            run_date=self.run_date,
            started_at=self.started_at,
            finished_at=now(),
            status=status,
            files_loaded=sum(s.files_loaded for s in totals),
            files_skipped=sum(s.files_skipped for s in totals),
            files_rejected=sum(s.files_rejected for s in totals),
            rows_loaded=sum(s.rows_loaded for s in totals),
            rows_quarantined=sum(s.rows_quarantined for s in totals),
            error=error,
            flow_run_id=self.flow_run_id,
        )


class RunRolledBack(RuntimeError):
    """The run failed after it began changing the warehouse; every change was undone."""


class PublicationFailed(RuntimeError):
    """The run committed, but publishing a copy of it for readers failed."""
