"""Least privilege for readers: PostgreSQL roles that see what warehouse.md lets them.

Two kinds of reader (contract v2, "Who may read what"):

- ``bi``: the dimensions, facts and mart views, nothing else: no staging (raw survey
  answers live there), no audit detail, no writes.
- ``audit``: what BI reads plus the ``etl_*`` audit trail; never a staging table.

Views run with their owner's rights, so reading a mart needs no grant on the tables
beneath it. Model tables are recreated when their shape changes, so the roles granted
are remembered in ``rxstaff_setting`` and granted again by every run.
"""

from __future__ import annotations

import re
from typing import Literal

import sqlalchemy as sa

from rxstaff.warehouse.declarations import bi_relations, of_kind
from rxstaff.warehouse.schemas import AUDIT, BI, INTERNAL, READER_SCHEMAS

Reader = Literal["bi", "audit"]
BI_RELATIONS = bi_relations()
AUDIT_RELATIONS = [*BI_RELATIONS, *(d.name for d in of_kind("audit"))]
RELATIONS: dict[Reader, list[str]] = {"bi": BI_RELATIONS, "audit": AUDIT_RELATIONS}
ROLE_SETTING: dict[Reader, str] = {"bi": "bi_role:", "audit": "audit_role:"}
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AccessError(RuntimeError):
    """The read-only role cannot be set up here."""


def grant_bi_role(
    engine: sa.Engine, role: str, login: bool = True, password: str | None = None
) -> list[str]:
    """Create or update a BI role and grant it exactly the BI relations; what it can read."""
    return grant_reader_role(engine, "bi", role, login, password)


def grant_audit_role(
    engine: sa.Engine, role: str, login: bool = True, password: str | None = None
) -> list[str]:
    """Create or update an auditor role: the BI relations plus etl_*; what it can read."""
    return grant_reader_role(engine, "audit", role, login, password)


def grant_reader_role(
    engine: sa.Engine, reader: Reader, role: str, login: bool, password: str | None
) -> list[str]:
    if engine.dialect.name != "postgresql":
        option = "--read-copy" if reader == "bi" else "--audit-copy"
        raise AccessError(
            "roles are a PostgreSQL feature; for DuckDB, give readers the copy published "
            f"with `rxstaff nightly {option} PATH`"
        )
    if not ROLE_NAME.match(role):
        raise AccessError(f"{role!r} is not a plain lower-case role name")
    with engine.begin() as conn:
        other: Reader = "audit" if reader == "bi" else "bi"
        if _remembered(conn, other, role):
            raise AccessError(f"{role} is already a {other} role; give each reader its own role")
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sa.text(
                f"{verb} ROLE {role} {'LOGIN' if login else 'NOLOGIN'} "
                "NOSUPERUSER NOCREATEDB NOCREATEROLE"
            )
        )
        if password:
            # DDL takes no bind parameters; quote the literal the way PostgreSQL does.
            literal = "'" + password.replace("'", "''") + "'"
            conn.exec_driver_sql(f"ALTER ROLE {role} PASSWORD {literal}")
        conn.execute(
            sa.text(
                "INSERT INTO rxstaff_setting (name, value) SELECT :n, 'granted' "
                "WHERE NOT EXISTS (SELECT 1 FROM rxstaff_setting WHERE name = :n)"
            ),
            {"n": ROLE_SETTING[reader] + role},
        )
        _grant(conn, role, reader)
    return RELATIONS[reader]


def _remembered(conn: sa.Connection, reader: Reader, role: str) -> bool:
    return role in reader_roles(conn, reader)


def reader_roles(conn: sa.Connection, reader: Reader) -> list[str]:
    prefix = ROLE_SETTING[reader]
    rows = conn.execute(
        sa.text("SELECT name FROM rxstaff_setting WHERE name LIKE :p"), {"p": prefix + "%"}
    )
    return [name.removeprefix(prefix) for (name,) in rows]


def apply_grants(conn: sa.Connection) -> None:
    """Every remembered reader role: SELECT on its relations, everything else revoked."""
    if conn.dialect.name != "postgresql":
        return
    for reader in RELATIONS:
        for role in reader_roles(conn, reader):
            _grant(conn, role, reader)


def _grant(conn: sa.Connection, role: str, reader: Reader) -> None:
    """The role's database, its schemas (warehouse/schemas.py) as its search_path, SELECT
    on its relations; nothing else, in any of rxstaff's schemas."""
    database = conn.execute(sa.text("SELECT current_database()")).scalar()
    conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
    # No TEMP (temporary tables and functions) and no CREATE anywhere: PostgreSQL grants
    # TEMP to PUBLIC by default, so it is revoked from PUBLIC on the warehouse's database
    # and kept for the role that loads it.
    conn.execute(sa.text(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC, {role}'))
    conn.execute(sa.text(f'GRANT TEMPORARY ON DATABASE "{database}" TO CURRENT_USER'))
    own = READER_SCHEMAS[reader]
    for schema in (BI, AUDIT, INTERNAL, "public"):
        conn.execute(sa.text(f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC, {role}'))
        conn.execute(sa.text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
        if schema not in own:
            conn.execute(sa.text(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {role}'))
    for schema in own:
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
    conn.execute(sa.text(f"GRANT SELECT ON {', '.join(RELATIONS[reader])} TO {role}"))
    # Unqualified names, as BI queries written before 0.7 use them, resolve in its schemas.
    path = ", ".join(own)
    conn.execute(sa.text(f'ALTER ROLE {role} IN DATABASE "{database}" SET search_path = {path}'))
