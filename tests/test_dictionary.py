"""The declarations describe every relation and column, are in the database, match the docs."""

from __future__ import annotations

from pathlib import Path

from rxstaff.warehouse.declarations import declarations
from rxstaff.warehouse.dictionary import documented, markdown
from tests.helpers import key_violations, query

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"


def test_every_documented_relation_and_column_is_described() -> None:
    for decl in documented():
        assert decl.description.strip(), f"{decl.name} has no description"
        missing = [c.name for c in decl.columns if not c.description.strip()]
        assert not missing, f"{decl.name}: {missing} undescribed"


def test_declarations_match_the_real_columns(warehouse_3y: Path) -> None:
    for decl in declarations().values():
        real = list(query(warehouse_3y, f"SELECT * FROM {decl.name} LIMIT 0").columns)
        assert real == decl.column_names, f"{decl.name}: {real} != {decl.column_names}"


def test_comments_are_in_the_database(warehouse_3y: Path) -> None:
    tables = query(
        warehouse_3y,
        "SELECT table_name AS name, comment FROM duckdb_tables() "
        "UNION ALL SELECT view_name, comment FROM duckdb_views()",
    )
    described = dict(zip(tables.name, tables.comment, strict=True))
    for decl in documented():
        assert described[decl.name] == decl.description
    columns = query(
        warehouse_3y,
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE table_name = 'mart_backfill_delays'",
    )
    assert columns.comment.notna().all()


def test_committed_docs_are_generated_from_the_same_source() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), "run `make docs`"


def test_declared_keys_hold(warehouse_3y: Path) -> None:
    assert key_violations(lambda sql: query(warehouse_3y, sql)) == []
