"""What a run did, per source, for the operator and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceSummary:
    files_loaded: int = 0
    files_skipped: int = 0
    files_rejected: int = 0
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

    def source(self, name: str) -> SourceSummary:
        return self.sources.setdefault(name, SourceSummary())

    @property
    def exit_code(self) -> int:
        if self.failed:
            return 2
        return 1 if self.rejections else 0


class RunRejectedFiles(RuntimeError):
    """Raised at the end of a committed run that rejected files, so the scheduler alerts."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__("; ".join(summary.rejections))
        self.summary = summary
