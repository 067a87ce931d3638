"""What a run did, as the operator hears it and as ``etl_run`` records it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from rxstaff.warehouse.batches import now
from rxstaff.warehouse.connection import WarehouseUnavailable
from rxstaff.warehouse.schema import NoWarehouse, SchemaTooNew
from rxstaff.warehouse.settings import SecretMismatch

# Failures met before the run changed anything: nothing to roll back, nothing recorded.
NOTHING_CHANGED: tuple[type[BaseException], ...] = (
    WarehouseUnavailable,
    SchemaTooNew,
    SecretMismatch,
    NoWarehouse,
)


class RunRolledBack(RuntimeError):
    """The run failed after it began changing the warehouse; every change was undone."""


class RunStopped(BaseException):
    """The run's process was told to stop (SIGTERM: a scheduler, systemd, a timeout).

    A BaseException, as KeyboardInterrupt is: raised wherever the run happens to be, it
    must not be swallowed by code that handles its own errors (a logging handler, a
    library's retry), only by the run's own failure handling."""

    # Set by the signal handler as it raises: DuckDB turns an exception raised mid-query
    # into its own "Query interrupted", and the run must still say why it ended.
    requested: str | None = None

    @classmethod
    def request(cls, reason: str) -> RunStopped:
        cls.requested = reason
        return cls(reason)


def stop_behind(error: BaseException) -> BaseException:
    """The stop that caused `error` where one was requested, else `error` itself."""
    if RunStopped.requested and not isinstance(error, RunStopped):
        return RunStopped(RunStopped.requested)
    return error


class PublicationFailed(RuntimeError):
    """The run committed, but publishing a copy of it for readers failed."""


class NeedsAttention(Exception):
    """A Prefect run that loaded what it could and ends Failed so the scheduler alerts.
    Prefect stores a Failed state's data as the run's exception: the summary rides on
    one, so a worker logs the message once and no traceback."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message, summary)
        self.summary = summary

    def __str__(self) -> str:
        return str(self.args[0])


def summary_of(result: object) -> object:
    """A flow run's result as the run left it: its summary where it needs attention."""
    return result.summary if isinstance(result, NeedsAttention) else result


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
    new_warehouse: bool = False  # this run created the warehouse (its schema)
    budget_watch: int = 0  # seats the budget watch sent after the commit

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


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    run_date: date
    started_at: datetime
    finished_at: datetime
    status: str  # succeeded, nothing new, rejected files, stale landing, empty landing, failed
    files_loaded: int
    files_skipped: int
    files_rejected: int
    rows_loaded: int
    rows_quarantined: int
    error: str | None = None
    flow_run_id: str | None = None  # the scheduler's (Prefect's) id of this run


@dataclass
class RunContext:
    """One run as the warehouse writes it: who it is, and what it has written so far."""

    run_id: str
    run_date: date
    summary: RunSummary
    started_at: datetime = field(default_factory=now)
    flow_run_id: str | None = None
    batch_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    roster_dates: list[date] = field(default_factory=list)  # snapshots staged this run
    roster_corrected: bool = False  # a loaded roster file was replaced

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


def record_run(conn: sa.Connection, run: RunRecord) -> None:
    values = run.__dict__
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(sa.text(f"INSERT INTO etl_run ({columns}) VALUES ({params})"), values)
