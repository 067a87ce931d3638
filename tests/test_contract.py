"""The warehouse's declarations against the repository's copy of the contract.

docs/contracts/warehouse.md names each relation in a list item (- `name`: ...); every
declared column of a BI or audit relation must be named in its item, so a renamed or
misspelt column cannot slip past. Lineage and audit detail beyond the contract are
listed here by name, as extensions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.declarations import declarations
from rxstaff.warehouse.dictionary import documented

ROOT = Path(__file__).resolve().parents[1]
WAREHOUSE = (ROOT / "docs" / "contracts" / "warehouse.md").read_text(encoding="utf-8")
SOURCES_MD = (ROOT / "docs" / "contracts" / "sources.md").read_text(encoding="utf-8")
# Columns rxstaff adds beyond the contract (documented in the data dictionary).
EXTENSIONS = {
    "source_batch_id",
    "source_row_number",
    "run_id",
    "file_date",
    "validated_with",
    "error",
    "employee_key",
    "kind",
    "observed_on",
    "detail",
    "origin",
    "run_date",
    "files_loaded",
    "files_skipped",
    "files_rejected",
    "rows_loaded",
    "rows_quarantined",
    # etl_metric_change: "and the batches that run loaded or superseded"
    "loaded_batches",
    "superseded_batches",
}


# The contract describes these without listing columns: their shape is rxstaff's.
UNLISTED = {"etl_run", "etl_anomaly"}
# Relations rxstaff adds to keep a rule of the contract that names no relation.
BEYOND_CONTRACT = {
    "etl_replaced_row": "Corrections keep history **(v2)**: rows that a corrected file replaced",
}
# Audit relations of rxstaff's own features, which the contract does not cover: the
# README documents each (the heading named here).
OWN_FEATURES = {"etl_budget_alert": "**The budget watch.**"}


def contract_items() -> dict[str, str]:
    """Relation name -> the text of its list item in the contract."""
    items: dict[str, str] = {}
    for block in re.split(r"\n(?=- `)", WAREHOUSE):
        match = re.match(r"- `(\w+)`", block)
        if match:
            items[match.group(1)] = block
    return items


@pytest.mark.parametrize("decl", documented(), ids=lambda d: d.name)
def test_each_declared_column_is_the_contracts(decl) -> None:
    if decl.name in OWN_FEATURES:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert OWN_FEATURES[decl.name] in readme and decl.name in readme
        return
    if decl.name in BEYOND_CONTRACT:
        assert BEYOND_CONTRACT[decl.name] in WAREHOUSE, f"{decl.name}: its rule left the contract"
        return
    item = contract_items().get(decl.name)
    assert item is not None, f"{decl.name} is not a relation of docs/contracts/warehouse.md"
    if decl.name in UNLISTED:
        return
    named = set(re.findall(r"`(\w+)`", item))
    if decl.name == "dim_job":  # "the job catalog as loaded": the catalog's own columns
        header = (ROOT / "app" / "reference" / "job_catalog.csv").open().readline()
        named = set(header.strip().split(","))
    missing = [c for c in decl.column_names if c not in named and c not in EXTENSIONS]
    assert not missing, f"{decl.name}: {missing} are not in the contract"


def test_every_bi_relation_is_declared_as_a_table_or_view() -> None:
    for decl in declarations().values():
        if decl.is_bi:
            assert decl.materialized in ("table", "view", "seed"), decl.name


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_source_declaration_follows_sources_md(name: str) -> None:
    src = SOURCES[name]
    section = SOURCES_MD.split(f"## {src.pattern.pattern.split('_(')[0].lstrip('^')}", 1)
    assert len(section) == 2, f"no section for {name} in docs/contracts/sources.md"
    text = section[1].split("\n## ", 1)[0]
    for column in src.column_names:
        assert column in text, f"{name}.{column} is not in the contract"
    assert f"<landing>/{src.folder}/" in SOURCES_MD
