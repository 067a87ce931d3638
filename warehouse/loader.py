"""Bulk loading of DataFrames and staged Parquet: one interface, a fast path per dialect.

DuckDB reads the DataFrame in place (Arrow scan), and a staged Parquet file itself
(``read_parquet``); PostgreSQL takes either through COPY. Never row-by-row inserts: those
run at a few thousand rows a second.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse import schemas

_names = itertools.count()


def bulk_insert(conn: sa.Connection, table: str, frame: pd.DataFrame) -> int:
    """Append the frame's columns to the table's same-named columns; the rows inserted."""
    if frame.empty:
        return 0
    if conn.dialect.name == "duckdb":
        _duckdb_insert(conn, table, frame)
    elif conn.dialect.name == "postgresql":
        _postgres_copy(conn, table, frame)
    else:
        raise NotImplementedError(f"no bulk path for {conn.dialect.name}")
    return len(frame)


def load_staged(
    conn: sa.Connection, table: str, url: str, batch_of: dict[int, int], file_no: str
) -> int:
    """Append a staged chunk's Parquet file to ``table``, each row's ``file_no`` (its
    file's place in the chunk) swapped for its file's batch id; rows of files without one
    (rejected) are left out. The rows appended.

    DuckDB reads a local file itself, in parallel, with no DataFrame between; any other
    warehouse or staging area goes through Arrow and ``bulk_insert``.
    """
    import fsspec
    import pyarrow.parquet as pq

    fs, path = fsspec.core.url_to_fs(url)
    if conn.dialect.name != "duckdb" or "file" not in fs.protocol:
        with fs.open(path, "rb") as handle:
            frame = pq.read_table(handle).to_pandas()
        return bulk_insert(conn, table, with_batch_ids(frame, batch_of, file_no))
    if not batch_of:
        return 0
    types = _column_types(conn, table)
    columns = [c for c in pq.read_schema(path).names if c != file_no]
    select = ", ".join(f'CAST(staged."{c}" AS {types[c]})' for c in columns)
    numbers, batches = zip(*sorted(batch_of.items()), strict=True)
    inserted = conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}, batch_id) "
        f"SELECT {select}, batch.batch_id FROM read_parquet(?) AS staged "
        f'JOIN (SELECT unnest(CAST(? AS BIGINT[])) AS "{file_no}", '
        "unnest(CAST(? AS BIGINT[])) AS batch_id) "
        f'AS batch USING ("{file_no}")',
        (path, list(numbers), list(batches)),
    )
    return int(inserted.rowcount)


def with_batch_ids(frame: pd.DataFrame, batch_of: dict[int, int], file_no: str) -> pd.DataFrame:
    """Swap each row's position-in-chunk file number for its file's batch_id; rows of
    files without one (rejected) are left out."""
    batch_ids = frame[file_no].map(batch_of)
    return frame.drop(columns=[file_no]).assign(batch_id=batch_ids)[batch_ids.notna().to_numpy()]


def _column_types(conn: sa.Connection, table: str) -> dict[str, str]:
    rows = conn.execute(
        sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_name = :t AND {schemas.visible(conn)}"
        ),
        {"t": table},
    )
    return {name: kind for name, kind in rows}


def _driver(conn: sa.Connection) -> Any:
    """The DBAPI connection underneath (DuckDB's or psycopg's): their bulk paths."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the warehouse connection is closed")
    return raw


def _duckdb_insert(conn: sa.Connection, table: str, frame: pd.DataFrame) -> None:
    raw = _driver(conn)
    view = f"rxstaff_frame_{next(_names)}"
    types = _column_types(conn, table)
    columns = list(frame.columns)
    select = ", ".join(f'CAST("{c}" AS {types[c]})' for c in columns)
    raw.register(view, frame)
    try:
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {view}"
        )
    finally:
        raw.unregister(view)


def _postgres_copy(conn: sa.Connection, table: str, frame: pd.DataFrame) -> None:
    raw = _driver(conn)
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        copy.write(_csv_for_copy(frame))


def _csv_for_copy(frame: pd.DataFrame) -> bytes:
    """The frame as CSV for COPY, written by Arrow (far faster than pandas' ``to_csv``). A
    null, and an empty text as pandas wrote it, is an unquoted empty field: COPY reads NULL.
    Timestamps are written with microseconds, as PostgreSQL keeps them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column of mixed Python types
        text = frame.to_csv(index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f")
        return text.encode()
    for position, field in enumerate(table.schema):
        column = table.column(position)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.timestamp("us", field.type.tz))
        elif pa.types.is_null(field.type):  # a column of nulls only
            column = column.cast(pa.string())
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, field.type), column)
        table = table.set_column(position, field.name, column)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()
