"""Reference files: the job catalog and the career paths, shipped or the pharmacy's own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd


def read_job_catalog(path: Path | None = None) -> pd.DataFrame:
    """The job catalog: the project's reference copy unless a health system supplies its own."""
    return _read_reference("job_catalog.csv", path)


def read_career_paths(path: Path | None = None) -> pd.DataFrame:
    """The declared career paths: the shipped default unless the pharmacy supplies its own."""
    return _read_reference("career_paths.csv", path)


def _read_reference(name: str, path: Path | None) -> pd.DataFrame:
    if path is None:
        with resources.as_file(resources.files("rxstaff.reference").joinpath(name)) as shipped:
            return pd.read_csv(shipped, dtype=str, keep_default_na=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)
