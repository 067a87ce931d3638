"""Whole-file publication of a DuckDB warehouse: copies for readers, and history loads.

DuckDB's file takes one writer at a time and a reader holding it open would block the
nightly run. BI tools read a copy instead, replaced in one rename at the end of a
successful run, so a reader sees the previous night or this one, never half a run.
A copy holds only the relations its readers may see (warehouse.md, "Who may read
what"), materialised as tables: BI readers the dim_/fct_/mart_ relations, auditors
those and the etl_ audit trail. Staging, where single survey answers live, never leaves
the warehouse file.

A history load (many GiB of new extracts) works on a copy of the warehouse too: it may
then commit chunk by chunk, which keeps DuckDB's memory to one chunk's uncommitted rows,
and still publishes all or nothing, by renaming the copy over the warehouse at the end.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rxstaff.warehouse.connection import Warehouse
from rxstaff.warehouse.declarations import bi_relations, declarations, of_kind
from rxstaff.warehouse.dictionary import comment_statements, literal


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so the file alone is the database."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("CHECKPOINT")


def _replace(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def publish_copy(warehouse: Warehouse, target: Path, relations: list[str]) -> Path:
    """A new DuckDB file holding exactly ``relations`` (tables and views materialised, with
    the descriptions of each and of its columns), renamed over ``target`` in one step."""
    source = warehouse.file
    if source is None:
        raise ValueError(
            "a read-only copy is for a DuckDB file warehouse; PostgreSQL readers "
            "see whole runs through its transaction"
        )
    partial = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_partial(partial)  # a crashed run's
    described = declarations()
    try:
        with duckdb.connect(str(partial)) as copy:
            copy.execute(f"ATTACH {literal(str(source))} AS rxstaff_source (READ_ONLY)")
            for name in relations:
                copy.execute(f"CREATE TABLE {name} AS SELECT * FROM rxstaff_source.{name}")
                if name in described:
                    for statement in comment_statements(described[name], kind="TABLE"):
                        copy.execute(statement)
            copy.execute("DETACH rxstaff_source")
            copy.execute("CHECKPOINT")
        _replace(partial, target)
    except BaseException:  # a full disk: give the space back, leave the old copy be
        _remove_partial(partial)
        raise
    return target


def _remove_partial(partial: Path) -> None:
    """A half-written copy and its write-ahead log."""
    for leftover in (partial, partial.with_name(partial.name + ".wal")):
        leftover.unlink(missing_ok=True)


def publish_for_bi(warehouse: Warehouse, target: Path) -> Path:
    """The copy BI tools read: the dim_, fct_ and mart_ relations, nothing else."""
    return publish_copy(warehouse, target, bi_relations())


def publish_for_audit(warehouse: Warehouse, target: Path) -> Path:
    """The copy auditors read: what BI reads, plus the etl_ audit trail (never staging)."""
    audit = [d.name for d in of_kind("audit")]
    return publish_copy(warehouse, target, [*bi_relations(), *audit])


@dataclass(frozen=True)
class LoadingCopy:
    """A private copy of a DuckDB warehouse that a history load writes, then publishes."""

    target: Path
    work: Path

    @classmethod
    def start(cls, target: Path) -> LoadingCopy:
        work = target.with_name(f".{target.name}.loading")
        cls._remove(work)
        if target.exists():
            _checkpoint(target)
            try:
                shutil.copyfile(target, work)
            except OSError:  # a full disk: leave no half copy behind
                cls._remove(work)
                raise
        return cls(target, work)

    def publish(self) -> None:
        """Replace the warehouse with the loaded copy in one rename."""
        _checkpoint(self.work)
        _replace(self.work, self.target)

    def abandon(self) -> None:
        """Drop the copy: the warehouse is exactly as it was before the run."""
        self._remove(self.work)

    @staticmethod
    def _remove(path: Path) -> None:
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
