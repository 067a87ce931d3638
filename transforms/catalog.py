"""The job catalog: job codes, families, grades, and the roles created in the expansion."""

from __future__ import annotations

from datetime import date

import pandas as pd

from rxstaff.transforms.pseudonym import Pseudonymiser
from rxstaff.transforms.source import Reference

CATALOG_COLUMNS = [
    "job_code",
    "job_title",
    "job_family",
    "ladder_level",
    "grade",
    "created_in_expansion",
]


class CatalogError(ValueError):
    """The job catalog cannot be used."""


def _trimmed(raw: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    """A reference file's columns as trimmed text, headers matched like an extract's."""
    frame = raw.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CatalogError(f"{what} lack(s) column(s) {missing}")
    return frame[columns].apply(lambda s: s.str.strip())


def stage_catalog(raw: pd.DataFrame) -> pd.DataFrame:
    frame = _trimmed(raw, CATALOG_COLUMNS, "job catalog")
    if frame["job_code"].duplicated().any():
        raise CatalogError("job catalog lists a job_code twice")
    flags = frame["created_in_expansion"].str.lower()
    if not flags.isin(["true", "false"]).all():
        raise CatalogError("created_in_expansion must be true or false")
    return pd.DataFrame(
        {
            "job_code": frame["job_code"].astype("string"),
            "job_title": frame["job_title"].astype("string"),
            "job_family": frame["job_family"].astype("string"),
            "ladder_level": pd.to_numeric(frame["ladder_level"].replace("", None)).astype("Int64"),
            "grade": pd.to_numeric(frame["grade"]).astype("int64"),
            "created_in_expansion": flags == "true",
        }
    )


def reference(
    catalog: pd.DataFrame, secret: str, bounds: tuple[date, date] | None = None
) -> Reference:
    """What validation and staging need from the catalog, with the id key and the date
    sanity bounds (the defaults of Reference unless given)."""
    extra = {"earliest": bounds[0], "latest": bounds[1]} if bounds else {}
    return Reference(
        job_codes=catalog["job_code"].tolist(),
        job_families=sorted(catalog["job_family"].unique().tolist()),
        pseudonyms=Pseudonymiser(secret),
        **extra,
    )


PATH_COLUMNS = ["from_job_code", "to_job_code", "move_type"]
MOVE_TYPES = ("promotion", "lateral", "demotion")


def stage_career_paths(raw: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """The declared career paths, checked against the catalog; errors name the line.

    Line numbers count the file's lines: the header is line 1.
    """
    frame = _trimmed(raw, PATH_COLUMNS, "career paths")
    frame["move_type"] = frame["move_type"].str.lower()
    codes = set(catalog["job_code"])
    for line, row in zip(range(2, len(frame) + 2), frame.itertuples(index=False), strict=True):
        source, target, move = (str(v) for v in row)
        problem = _path_problem(source, target, move, codes)
        if problem:
            raise CatalogError(f"career paths, line {line}: {problem}")
    doubled = frame.duplicated(["from_job_code", "to_job_code"], keep="first")
    if doubled.any():
        line = int(doubled.to_numpy().argmax()) + 2
        raise CatalogError(f"career paths, line {line}: the move is declared twice")
    return frame.astype("string").reset_index(drop=True)


def _path_problem(source: str, target: str, move: str, codes: set[str]) -> str | None:
    for name, code in (("from_job_code", source), ("to_job_code", target)):
        if code not in codes:
            return f"{name} {code!r} is not in the job catalog"
    if source == target:
        return "from_job_code and to_job_code are the same job"
    if move not in MOVE_TYPES:
        return f"move_type {move!r} is not one of {', '.join(MOVE_TYPES)}"
    return None


def move_type(paths: pd.DataFrame, grades: dict[str, int], source: str, target: str) -> str:
    """How a job change is typed: the declared path first, the grades after."""
    declared = paths[(paths.from_job_code == source) & (paths.to_job_code == target)]
    if len(declared):
        return str(declared.move_type.iloc[0])
    step = grades[target] - grades[source]
    return "promotion" if step > 0 else "demotion" if step < 0 else "lateral"
