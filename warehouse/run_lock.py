"""One run at a time per warehouse, whatever starts it (a deployment, the CLI, a re-run).

Two runs at once lose work: a history load publishing its private copy over a night the
other run committed meanwhile, or two PostgreSQL transactions racing. A run holds a lock
on its warehouse for its whole length:

- DuckDB: an exclusive ``flock`` on a file beside the warehouse (``<file>.lock``). The
  operating system releases it when the holder's process ends, however it ends, so a
  crashed run never leaves it stuck. The holder writes who it is into the file.
- PostgreSQL: a session-level advisory lock on the warehouse's database, held by a
  connection of its own whose application_name says who holds it (a crashed run's
  session ends, and its lock with it).

A second run waits up to ``wait_seconds``, then gives up naming the holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from rxstaff.warehouse.connection import Warehouse

ADVISORY_KEY = 0x72787374616666  # "rxstaff": one key per database, so per warehouse
POLL_SECONDS = 0.5


class RunLockBusy(RuntimeError):
    """Another run holds the warehouse."""


def holder_description(run_id: str) -> dict[str, str | int]:
    return {
        "run_id": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": datetime.now().isoformat(timespec="seconds"),
    }


@contextmanager
def run_lock(warehouse: Warehouse, run_id: str, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse for this run, waiting up to ``wait_seconds`` for another."""
    if warehouse.file is not None:
        with _file_lock(warehouse.file, run_id, wait_seconds):
            yield
    elif not warehouse.is_postgres:
        yield  # an in-memory DuckDB belongs to this process alone
    else:
        with _advisory_lock(warehouse, run_id, wait_seconds):
            yield


def _describe(holder: dict[str, str | int] | None) -> str:
    if not holder:
        return "another run (it did not say which)"
    return (
        f"run {holder.get('run_id')} on {holder.get('host')} (pid {holder.get('pid')}), "
        f"started {holder.get('started_at')}"
    )


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


@contextmanager
def _file_lock(target: Path, run_id: str, wait_seconds: float) -> Iterator[None]:
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        _acquire_file(handle, path, wait_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder_description(run_id)))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _acquire_file(handle: IO[str], path: Path, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise RunLockBusy(
                    f"the warehouse is held by {_describe(_read_holder(path))}; waited "
                    f"{wait_seconds:g} s (lock file {path})"
                ) from None
            time.sleep(POLL_SECONDS)


def _read_holder(path: Path) -> dict[str, str | int] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


@contextmanager
def _advisory_lock(warehouse: Warehouse, run_id: str, wait_seconds: float) -> Iterator[None]:
    holder = holder_description(run_id)
    name = (
        f"rxstaff run {run_id} on {holder['host']} pid {holder['pid']} since {holder['started_at']}"
    )
    engine = warehouse.engine(application_name=name)
    try:
        conn = warehouse.with_retries(engine.connect)
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            _acquire_advisory(conn, wait_seconds)
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
        finally:
            conn.close()
    finally:
        engine.dispose()


def _acquire_advisory(conn: sa.Connection, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not conn.execute(
        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
    ).scalar():
        if time.monotonic() >= deadline:
            raise RunLockBusy(
                f"the warehouse is held by {_advisory_holder(conn)}; waited {wait_seconds:g} s"
            )
        time.sleep(POLL_SECONDS)


def _advisory_holder(conn: sa.Connection) -> str:
    """The session holding the lock, as its application_name names it."""
    found = conn.execute(
        sa.text(
            "SELECT a.application_name, a.pid FROM pg_locks AS l "
            "JOIN pg_stat_activity AS a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND a.pid <> pg_backend_pid() LIMIT 1"
        )
    ).first()
    if found is None:
        return "another session (it has just let go)"
    return f"{found.application_name or 'a session with no name'} (server pid {found.pid})"
