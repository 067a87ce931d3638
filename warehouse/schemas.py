"""PostgreSQL schemas by audience: what BI may read in ``bi``, the audit trail in ``audit``,
everything else (staging, intermediate models, settings) in ``internal``.

A BI tool pointed at the database lists schemas and their tables; with every relation in
``public`` it listed staging and internal tables it may not read. Each reader role's
``search_path`` is its own schemas, so queries by unqualified name keep working; rxstaff's
own sessions search all three (``SEARCH_PATH``). Relations are created by unqualified
name, landing in ``internal`` (the first schema on the path), and ``arrange`` moves each
to its audience's schema: at the start of every run (a warehouse of 0.6.x, all in
``public``, is moved in place) and after views are replaced. DuckDB keeps one schema:
its readers get copies that hold only what they may read.
"""

from __future__ import annotations

import sqlalchemy as sa

from rxstaff.warehouse.declarations import bi_relations, of_kind

BI, AUDIT, INTERNAL = "bi", "audit", "internal"
SEARCH_PATH = f"{INTERNAL},{AUDIT},{BI},public"
READER_SCHEMAS = {"bi": (BI,), "audit": (BI, AUDIT)}
# Names of rxstaff's own relations: anything else in the database is left where it is.
OWN_PREFIXES = ("dim_", "fct_", "mart_", "etl_", "stg_", "int_", "rxstaff_")


def home(name: str) -> str:
    """The schema a relation belongs in."""
    if name in bi_relations():
        return BI
    if name in {d.name for d in of_kind("audit")} or name.startswith("etl_"):
        return AUDIT
    return INTERNAL


def is_postgres(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def ensure_schemas(conn: sa.Connection) -> None:
    """The three schemas, on PostgreSQL (no one but the loading role may create in them)."""
    if not is_postgres(conn):
        return
    for schema in (BI, AUDIT, INTERNAL):
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        conn.execute(sa.text(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC"))
    # The loading role's own sessions (psql, scripts) find every relation by name too.
    path = f"search_path={SEARCH_PATH}"
    found = conn.execute(
        sa.text(
            "SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
            "JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = current_user "
            "AND d.datname = current_database() AND :p = ANY (s.setconfig)"
        ),
        {"p": path},
    ).first()
    if found is None:
        database = conn.execute(sa.text("SELECT current_database()")).scalar()
        conn.execute(
            sa.text(f'ALTER ROLE CURRENT_USER IN DATABASE "{database}" SET search_path = '
                    f"{SEARCH_PATH}")
        )  # fmt: skip


def arrange(conn: sa.Connection) -> list[str]:
    """Move each of rxstaff's tables and views not in its audience's schema there; the
    relations moved (``schema.name`` as they were)."""
    if not is_postgres(conn):
        return []
    rows = conn.execute(
        sa.text(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'v', 'p') AND n.nspname IN ('public', :i, :a, :b)"
        ),
        {"i": INTERNAL, "a": AUDIT, "b": BI},
    ).all()
    moved = []
    for schema, name, kind in rows:
        target = home(name)
        if name.startswith(OWN_PREFIXES) and schema != target:
            what = "VIEW" if kind == "v" else "TABLE"
            conn.execute(sa.text(f'ALTER {what} "{schema}"."{name}" SET SCHEMA {target}'))
            moved.append(f"{schema}.{name}")
    return moved


def visible(conn: sa.Connection) -> str:
    """An information_schema condition on ``table_schema``: the schemas this session
    searches (PostgreSQL), or the one schema (DuckDB)."""
    if is_postgres(conn):
        return "table_schema = ANY (current_schemas(false))"
    return "table_schema = current_schema()"
