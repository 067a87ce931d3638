"""A read-only copy of a DuckDB warehouse for BI tools, published atomically.

DuckDB's file takes one writer at a time and a reader holding it open would block the
nightly run. BI tools read the copy instead: it is replaced in one rename at the end of
a successful run, so a reader sees the previous night or this one, never half a run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
from sqlalchemy.engine import make_url


def publish_read_copy(url: str, target: Path) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database:
        raise ValueError(
            "a read-only copy is for a DuckDB file warehouse; PostgreSQL readers "
            "see whole runs through its transaction"
        )
    source = Path(parsed.database)
    with duckdb.connect(str(source)) as conn:
        conn.execute("CHECKPOINT")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target
