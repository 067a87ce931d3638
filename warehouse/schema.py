"""Schema versions: migrations applied in order, recorded in ``rxstaff_schema_version``."""

from __future__ import annotations

import re
from importlib import resources

import sqlalchemy as sa

from rxstaff.transforms.sources import SOURCES

VERSION_TABLE = "rxstaff_schema_version"
# The version of the outbound contract (the BI relations and their metric definitions)
# this rxstaff honours: an auditor cites it beside the schema version.
CONTRACT_VERSION = 3


class NoWarehouse(RuntimeError):
    """The database holds no rxstaff warehouse, and the run may not create one."""


class SchemaTooNew(RuntimeError):
    """The warehouse was written by a newer rxstaff than this one."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with this rxstaff, in order."""
    folder = resources.files("rxstaff.warehouse").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = re.match(r"^(\d{4})_(.+)\.sql$", entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    return sorted(found)


def latest_version() -> int:
    return migrations()[-1][0]


def strip_comments(sql: str) -> str:
    """Drop whole-line ``--`` comments (their colons would read as bind parameters)."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def statements(sql: str) -> list[str]:
    """Split a script on statement-ending semicolons (our SQL has none inside literals)."""
    return [s.strip() for s in strip_comments(sql).split(";") if s.strip()]


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return 0
    found = conn.execute(sa.text(f"SELECT MAX(version) FROM {VERSION_TABLE}")).scalar()
    return int(found or 0)


def upgrade(conn: sa.Connection, create: bool = True) -> list[int]:
    """Bring the warehouse to this rxstaff's schema; the versions applied.

    Refuses a warehouse newer than this code: an older rxstaff must not write into it; and,
    without ``create``, a database that holds no warehouse yet.
    """
    version = current_version(conn)
    if version == 0 and not create:
        raise NoWarehouse(
            "the database holds no rxstaff warehouse, and RXSTAFF_CREATE_WAREHOUSE=never: "
            "this run may not create one (is the URL mistyped?)"
        )
    if version > latest_version():
        raise SchemaTooNew(
            f"the warehouse is at schema version {version} but this rxstaff knows only up to "
            f"{latest_version()}: upgrade rxstaff before running it against this warehouse"
        )
    if version == 0:
        conn.execute(
            sa.text(
                f"CREATE TABLE {VERSION_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)"
            )
        )
    applied = []
    for number, name, sql in migrations():
        if number <= version:
            continue
        for statement in statements(sql):
            conn.execute(sa.text(statement))
        conn.execute(
            sa.text(f"INSERT INTO {VERSION_TABLE} VALUES (:v, :n, CURRENT_TIMESTAMP)"),
            {"v": number, "n": name},
        )
        applied.append(number)
    return applied


def ensure_staging_tables(conn: sa.Connection) -> list[str]:
    """Create each source's staging tables that are missing, from its declaration; the
    tables created. A source added to ``SOURCES`` needs no migration for its tables (the
    first ones were made by migrations 0001 and 0007; tests hold them to the declarations)."""
    present = set(sa.inspect(conn).get_table_names())
    made = [
        table
        for src in SOURCES.values()
        for table in src.staging_tables
        if table.name not in present
    ]
    for table in made:
        conn.execute(sa.text(table.create_sql()))
    return [table.name for table in made]


# PostgreSQL found a night's roster snapshot among years of staged rows by reading all of
# them, twice a night. A BRIN index keeps each block range's smallest and largest values
# (a tiny index for gigabytes of rows): the
# night's rows, appended at the table's end, are found in milliseconds, and a correction
# finds its old batch's rows the same way. Loading keeps it at almost no cost: a range
# not yet summarized is always read, never skipped wrongly. DuckDB keeps the same
# minimum and maximum per row group by itself.
ROSTER_BY_SNAPSHOT = "stg_roster_by_snapshot"
POSTGRES_INDEXES = {
    ROSTER_BY_SNAPSHOT: "ON stg_roster USING brin (snapshot_date, batch_id)",
}


def ensure_indexes(conn: sa.Connection) -> list[str]:
    """Create the indexes the warehouse's engine needs and lacks; the indexes created."""
    if conn.dialect.name != "postgresql":
        return []
    present = set(
        conn.execute(
            sa.text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = ANY (current_schemas(false))"
            )
        ).scalars()
    )
    made = [name for name in POSTGRES_INDEXES if name not in present]
    for name in made:  # looked up first: CREATE INDEX IF NOT EXISTS locks the table anyway
        conn.execute(sa.text(f"CREATE INDEX {name} {POSTGRES_INDEXES[name]}"))
    return made


def summarize_new_roster_ranges(conn: sa.Connection) -> None:
    """Summarize the block ranges loaded since the roster's BRIN index last was (VACUUM
    does it too, but not before the history reads tonight's rows): a night's few ranges
    take little, a history load's gigabytes about as long as reading them once."""
    if conn.dialect.name == "postgresql":  # where the index is (a run's prepare makes it)
        conn.execute(
            sa.text(
                "SELECT brin_summarize_new_values(i) FROM "
                "(SELECT to_regclass(CAST(:i AS TEXT)) AS i) AS found WHERE i IS NOT NULL"
            ),
            {"i": ROSTER_BY_SNAPSHOT},
        )
