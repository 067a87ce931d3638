"""The job catalog: job codes, families, grades, and the roles created in the expansion."""

from __future__ import annotations

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


def stage_catalog(raw: pd.DataFrame) -> pd.DataFrame:
    frame = raw.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CATALOG_COLUMNS if c not in frame.columns]
    if missing:
        raise CatalogError(f"job catalog lacks column(s) {missing}")
    frame = frame[CATALOG_COLUMNS].apply(lambda s: s.str.strip())
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


def reference(catalog: pd.DataFrame, secret: str) -> Reference:
    """What validation and staging need from the catalog, with the id key."""
    return Reference(
        job_codes=catalog["job_code"].tolist(),
        job_families=sorted(catalog["job_family"].unique().tolist()),
        pseudonyms=Pseudonymiser(secret),
    )
