"""Schema versions: migrations applied in order, recorded in ``rxstaff_schema_version``."""

from __future__ import annotations

import re
from importlib import resources

import sqlalchemy as sa

VERSION_TABLE = "rxstaff_schema_version"


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


def upgrade(conn: sa.Connection) -> list[int]:
    """Bring the warehouse to this rxstaff's schema; the versions applied.

    Refuses a warehouse newer than this code: an older rxstaff must not write into it.
    """
    version = current_version(conn)
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
