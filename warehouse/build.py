"""Building the declared models: tables rebuilt in dependency order, then the BI views.

A table is rebuilt when what it reads, or its definition, changed since it was last
built (``fingerprint.py``): a roster night leaves the survey's models as they were.

Each model's SELECT is wrapped so that its declared columns are selected by name:
``INSERT INTO t (c1, ...) SELECT c1, ... FROM (<model>) AS model``. A model whose
output lacks a declared column fails loudly instead of shifting values. A model table
whose columns differ from its declaration (a new rxstaff version) is recreated: models
are derived data, rebuilt every run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse import fingerprint, schemas
from rxstaff.warehouse.declarations import Declaration, declarations, of_kind
from rxstaff.warehouse.loader import bulk_insert
from rxstaff.warehouse.schema import strip_comments


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def select_sql(decl: Declaration, min_group_size: int | None = None) -> str:
    """The model as a SELECT of its declared columns, by name."""
    if decl.sql is None:
        raise ValueError(f"{decl.name} is not built from SQL")
    body = strip_comments(decl.sql)
    if min_group_size is not None:
        body = body.replace("{min_group_size}", str(int(min_group_size)))
    return f"SELECT {_quoted(decl.column_names)} FROM (\n{body}\n) AS model"


def existing_columns(conn: sa.Connection, table: str) -> list[str]:
    rows = conn.execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_name = :t AND {schemas.visible(conn)} ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [name for (name,) in rows]


def tables_to_recreate(conn: sa.Connection) -> list[str]:
    """Model and seed tables missing, or whose columns differ from their declaration."""
    return [
        decl.name
        for decl in of_kind("table", "incremental", "seed")
        if existing_columns(conn, decl.name) != decl.column_names
    ]


def ensure_tables(conn: sa.Connection) -> list[str]:
    """Create each model and seed table as declared; the tables (re)created (an
    incremental model's refills on its next update).

    Call with the views dropped: a view may depend on a table being recreated.
    """
    made = tables_to_recreate(conn)
    for name in made:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
        conn.execute(sa.text(declarations()[name].create_table_sql()))
    return made


def has_rows(conn: sa.Connection, table: str) -> bool:
    return conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None


def load_seed(conn: sa.Connection, name: str, frame: pd.DataFrame) -> None:
    """Replace a seed table (reference data such as the job catalog)."""
    conn.execute(sa.text(f"DELETE FROM {name}"))
    bulk_insert(conn, name, frame)


@dataclass(frozen=True)
class Built:
    rebuilt: list[str]  # in build order
    unchanged: list[str]  # definition, inputs and rows as when they were last built


def build_tables(conn: sa.Connection, prints: fingerprint.Fingerprints | None = None) -> Built:
    """Rebuild, in dependency order, each model table whose inputs or definition changed
    since it was last built, or whose rows did; a table rebuilt to the same rows changes
    nothing after it. ``prints``: the run's fingerprints, to be reused when it publishes."""
    staging = [t for t in sa.inspect(conn).get_table_names() if t.startswith("stg_")]
    refresh_statistics(conn, [*staging, "int_roster_change", "etl_batch"])
    prints = prints or fingerprint.Fingerprints(conn)
    prints.forget_given()  # what the run loaded since the fingerprints were made
    last = fingerprint.stored(conn, fingerprint.BUILT_FROM)
    rebuilt, unchanged, now = [], [], {}
    for decl in of_kind("table"):
        inputs = prints.inputs(decl)
        built_from, _, content = last.get(decl.name, "").partition("/")
        if built_from == inputs and content == prints.of(decl.name):
            unchanged.append(decl.name)
            continue
        build_table(conn, decl)
        prints.forget(decl.name)
        rebuilt.append(decl.name)
        now[decl.name] = f"{inputs}/{prints.of(decl.name)}"
    fingerprint.store(conn, fingerprint.BUILT_FROM, now)
    fingerprint.store(conn, DEFINITIONS, {"": definitions_digest()})
    return Built(rebuilt, unchanged)


DEFINITIONS = "models_definition"


def definitions_digest() -> str:
    """One fingerprint of every model table's definition (its columns and SQL)."""
    digest = hashlib.sha256()
    for decl in of_kind("table", "incremental"):
        for part in (decl.name, ",".join(decl.column_names), decl.sql or ""):
            digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


def definitions_changed(conn: sa.Connection) -> bool:
    """Whether the model tables were last built by another definition of them (a new
    rxstaff version): then even a run with nothing new builds them."""
    return fingerprint.stored(conn, DEFINITIONS).get("") != definitions_digest()


def build_table(conn: sa.Connection, decl: Declaration) -> None:
    """Replace one model table's rows with what its SELECT gives now."""
    conn.execute(sa.text(f"DELETE FROM {decl.name}"))
    columns = _quoted(decl.column_names)
    conn.execute(sa.text(f"INSERT INTO {decl.name} ({columns}) {select_sql(decl)}"))
    refresh_statistics(conn, [decl.name])


def refresh_statistics(conn: sa.Connection, tables: list[str]) -> None:
    """PostgreSQL plans each model's joins from its inputs' statistics, and autovacuum
    cannot see a table filled in the run's own transaction: without this a model would be
    planned on last night's row counts (or none, on a first load). ANALYZE samples each
    table (~30,000 rows) and may run inside the transaction. DuckDB needs nothing."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(sa.text(f"ANALYZE {table}"))


def drop_views(conn: sa.Connection) -> None:
    """Drop the views, so that migrations and model tables may change beneath them."""
    for decl in reversed(of_kind("view")):
        conn.execute(sa.text(f"DROP VIEW IF EXISTS {decl.name}"))


VIEW_SETTING = "view_definition:"


def refresh_views(conn: sa.Connection, min_group_size: int) -> list[str]:
    """Create the views that are missing or whose definition changed; the views replaced.

    A view whose definition is unchanged is left alone: replacing it needs an exclusive
    lock, which would wait behind every BI query reading it (and queue the BI queries
    that come after). Its definition's fingerprint is kept in ``rxstaff_setting``. A view
    that reads a replaced view is replaced with it: PostgreSQL will not drop a view that
    others depend on.
    """
    present = set(sa.inspect(conn).get_view_names())
    stored = fingerprint.stored(conn, VIEW_SETTING)
    views = of_kind("view")  # in build order: what a view reads comes before it
    sql = {decl.name: select_sql(decl, min_group_size) for decl in views}
    definition = {name: _fingerprint(text) for name, text in sql.items()}
    replaced: set[str] = set()
    for decl in views:
        current = stored.get(decl.name) == definition[decl.name]
        if not (decl.name in present and current) or replaced.intersection(decl.depends_on):
            replaced.add(decl.name)
    for decl in reversed(views):
        if decl.name in replaced:
            conn.execute(sa.text(f"DROP VIEW IF EXISTS {decl.name}"))
    for decl in (d for d in views if d.name in replaced):
        conn.execute(sa.text(f"CREATE VIEW {decl.name} AS {sql[decl.name]}"))
    fingerprint.store(conn, VIEW_SETTING, {name: definition[name] for name in replaced})
    return [d.name for d in views if d.name in replaced]


def _fingerprint(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:32]
