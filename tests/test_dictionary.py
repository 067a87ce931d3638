"""The data dictionary covers the whole contract, is in the database, and matches the docs."""

from __future__ import annotations

from pathlib import Path

from rxstaff.warehouse.dictionary import RELATIONS, markdown
from tests.helpers import CONTRACT, query

DOCS = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"


def test_every_contract_relation_and_column_is_described() -> None:
    for name, columns in CONTRACT.items():
        assert name in RELATIONS, f"{name} has no description"
        missing = [c for c in columns if c not in RELATIONS[name][2]]
        assert not missing, f"{name}: {missing} undescribed"


def test_descriptions_match_the_real_columns(warehouse_3y: Path) -> None:
    for name, (_, _, columns) in RELATIONS.items():
        real = set(query(warehouse_3y, f"SELECT * FROM {name} LIMIT 0").columns)
        assert set(columns) == real, f"{name}: described {sorted(set(columns) ^ real)} differ"


def test_comments_are_in_the_database(warehouse_3y: Path) -> None:
    tables = query(
        warehouse_3y,
        "SELECT table_name AS name, comment FROM duckdb_tables() "
        "UNION ALL SELECT view_name, comment FROM duckdb_views()",
    )
    described = dict(zip(tables.name, tables.comment, strict=True))
    for name, (_, text, _) in RELATIONS.items():
        assert described[name] == text
    columns = query(
        warehouse_3y,
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE table_name = 'mart_backfill_delays'",
    )
    assert columns.comment.notna().all()


def test_committed_docs_are_generated_from_the_same_source() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), "run `make docs`"
