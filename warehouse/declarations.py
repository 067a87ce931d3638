"""Every warehouse relation, declared once beside its SQL (dbt-style YAML).

``warehouse/models/<layer>/<name>.yml`` declares a model: what it is (``materialized``:
``table`` rebuilt when its inputs change, ``view``, ``incremental`` kept up to date by
its own scripts, or ``seed`` loaded from reference data; by default its layer's, from
``warehouse/models/project.yml``), its description, its columns (name, type for tables,
``not_null``, description), its ``unique`` keys and what it ``depends_on``.
``<name>.sql`` is the model's SELECT, written with the project's ``vars`` (Jinja);
``<name>.<script>.sql`` are an incremental model's scripts. The audit tables (``etl_*``)
are declared in ``warehouse/audit/`` for their descriptions; their DDL is in the
migrations. The data dictionary and COMMENT ON come from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal

import jinja2
import yaml

Materialized = Literal["table", "view", "incremental", "seed", "audit"]
BI_PREFIXES = ("dim_", "fct_", "mart_")


@dataclass(frozen=True)
class ColumnDecl:
    name: str
    description: str
    type: str | None = None
    not_null: bool = False


@dataclass(frozen=True)
class Declaration:
    name: str
    materialized: Materialized
    description: str
    columns: tuple[ColumnDecl, ...]
    depends_on: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    sql: str | None = None
    audit_view: bool = False  # an audit relation that is a view (created by its migration)
    layer: str = "audit"  # its folder under warehouse/models/
    scripts: tuple[tuple[str, str], ...] = ()  # an incremental model's (name, SQL)

    def script(self, name: str) -> str:
        return dict(self.scripts)[name]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_bi(self) -> bool:
        """Part of the BI interface (warehouse.md): what BI readers may see."""
        return self.name.startswith(BI_PREFIXES)

    @property
    def comment_kind(self) -> str:
        return "VIEW" if self.materialized == "view" or self.audit_view else "TABLE"

    def create_table_sql(self) -> str:
        columns = ",\n    ".join(
            f"{c.name} {c.type}{' NOT NULL' if c.not_null else ''}" for c in self.columns
        )
        return f"CREATE TABLE {self.name} (\n    {columns}\n)"


class DeclarationError(ValueError):
    """A declaration is malformed or disagrees with its SQL."""


# libyaml's safe loader where PyYAML was built with it: every run reads every declaration
# at start-up, and so does each Dask worker and the companion process.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(entry: Traversable) -> Any:
    return yaml.load(entry.read_text("utf-8"), Loader=_LOADER)


@cache
def project() -> dict[str, Any]:
    """``warehouse/models/project.yml``: each layer's defaults, and the SQL's ``vars``."""
    return dict(_yaml(resources.files("rxstaff.warehouse").joinpath("models", "project.yml")))


@cache
def _sql_environment() -> jinja2.Environment:
    """Jinja with the project's ``vars`` and macros as globals: the macros are compiled
    once, not again with each model's SQL (every run, and every command, renders them all)."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.globals.update(project().get("vars", {}))
    source = resources.files("rxstaff.warehouse").joinpath("models", "macros.sql")
    macros = environment.from_string(source.read_text("utf-8")).module
    environment.globals.update({k: v for k, v in vars(macros).items() if not k.startswith("_")})
    return environment


def render(sql: str) -> str:
    """A model's SQL with the project's ``vars`` and macros (``models/macros.sql``) filled
    in; an unknown name is an error."""
    return _sql_environment().from_string(sql).render().lstrip()


@cache
def declarations() -> dict[str, Declaration]:
    """Every declared relation by name: models in build order, then the audit tables."""
    found: dict[str, Declaration] = {}
    base = resources.files("rxstaff.warehouse")
    folders = [(base.joinpath("models", layer), layer) for layer in project()["layers"]]
    for folder, layer in [*folders, (base.joinpath("audit"), "audit")]:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yml"):
                decl = _parse(_yaml(entry), folder, layer)
                found[decl.name] = decl
    ordered = build_order([d for d in found.values() if d.materialized != "audit"])
    audit = [d for d in found.values() if d.materialized == "audit"]
    return {d.name: d for d in [*ordered, *audit]}


def _parse(raw: dict[str, Any], folder: Traversable, layer: str) -> Declaration:
    name = raw["name"]
    default = "audit" if layer == "audit" else project()["layers"][layer]["materialized"]
    materialized = raw.get("materialized", default)
    sql, scripts = None, []
    if materialized in ("table", "view", "incremental"):
        sql = render(folder.joinpath(f"{name}.sql").read_text("utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            parts = entry.name.split(".")
            if len(parts) == 3 and parts[0] == name and parts[2] == "sql":
                scripts.append((parts[1], render(entry.read_text("utf-8"))))
    columns = tuple(
        ColumnDecl(c["name"], c["description"], c.get("type"), bool(c.get("not_null")))
        for c in raw["columns"]
    )
    if materialized in ("table", "incremental", "seed") and any(c.type is None for c in columns):
        raise DeclarationError(f"{name}: every column of a table needs a type")
    depends_on = tuple(raw.get("depends_on") or ())
    if sql is not None:
        check_lineage(name, sql, depends_on)
    return Declaration(
        name=name,
        materialized=materialized,
        description=raw["description"],
        columns=columns,
        depends_on=depends_on,
        unique=tuple(tuple(key) for key in raw.get("unique") or ()),
        sql=sql,
        audit_view=bool(raw.get("view")),
        layer=layer,
        scripts=tuple(scripts),
    )


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# FROM inside a function's arguments or a comparison names a column, not a relation
_NOT_A_RELATION = re.compile(
    rf"\b(?:EXTRACT|SUBSTRING|TRIM)\s*\(\s*(?:{_IDENT}\s+)?FROM\b|\bDISTINCT\s+FROM\b", re.I
)
_CTE = re.compile(
    rf"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*({_IDENT})\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(",
    re.I,
)
_READ = re.compile(rf"\b(?:FROM|JOIN)\s+({_IDENT})", re.I)
# Any name of the warehouse's own kinds, wherever it stands: a relation joined by a comma
# (FROM a, b) follows no FROM or JOIN
_OWN_NAME = re.compile(r"\b((?:stg|int|dim|fct|mart|etl|rxstaff)_[A-Za-z0-9_]*)\b", re.I)


def relations_read(sql: str) -> set[str]:
    """The relations a model's SELECT reads: every name after FROM or JOIN, and every
    name of the warehouse's own kinds (``stg_``, ``fct_``, ...), that is not one of its
    own CTEs (literals and comments left out)."""
    # Scanned left to right, so that a quote in a comment or "--" in a literal is neither
    body = re.sub(r"'(?:[^']|'')*'|--[^\n]*", lambda m: "''" if m[0][0] == "'" else "", sql)
    body = _NOT_A_RELATION.sub("(", body)
    ctes = {name.lower() for name in _CTE.findall(body)}
    named = _READ.findall(body) + _OWN_NAME.findall(body)
    return {name.lower() for name in named} - ctes


def check_lineage(name: str, sql: str, depends_on: tuple[str, ...]) -> None:
    """A model's ``depends_on`` must name exactly what its SQL reads: a build skips a
    model whose inputs did not change, so an input left undeclared would leave its
    figures stale."""
    read, declared = relations_read(sql), set(depends_on)
    if read != declared:
        undeclared, unread = sorted(read - declared), sorted(declared - read)
        raise DeclarationError(
            f"{name}: depends_on disagrees with its SQL (read but not declared: "
            f"{', '.join(undeclared) or 'none'}; declared but not read: "
            f"{', '.join(unread) or 'none'})"
        )


def build_order(decls: list[Declaration]) -> list[Declaration]:
    """Dependencies first (a topological sort, ties by name); a cycle is an error."""
    by_name = {d.name: d for d in decls}
    done: list[Declaration] = []
    visiting: set[str] = set()

    def visit(decl: Declaration) -> None:
        if decl in done:
            return
        if decl.name in visiting:
            raise DeclarationError(f"models depend on each other in a cycle through {decl.name}")
        visiting.add(decl.name)
        for dependency in sorted(decl.depends_on):
            if dependency in by_name:  # staging and state tables are given, not built
                visit(by_name[dependency])
        visiting.discard(decl.name)
        done.append(decl)

    for decl in sorted(decls, key=lambda d: d.name):
        visit(decl)
    return done


def of_kind(*kinds: Materialized) -> list[Declaration]:
    return [d for d in declarations().values() if d.materialized in kinds]


def bi_relations() -> list[str]:
    return [d.name for d in declarations().values() if d.is_bi]
