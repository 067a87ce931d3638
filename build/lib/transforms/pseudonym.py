"""Keyed hashes for identifiers: the warehouse never holds a raw employee_id."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

KEY_LENGTH = 32  # hex characters: 128 bits, plenty against collision for a workforce


def fingerprint(secret: str) -> str:
    """A non-reversible tag of the secret, so a warehouse can refuse a different one."""
    return hashlib.sha256(b"rxstaff-secret-fingerprint:" + secret.encode()).hexdigest()[:16]


class Pseudonymiser:
    """HMAC-SHA256 of identifiers, memoised: a workforce has few distinct ids and many rows."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the pseudonymisation secret is empty")
        self._key = secret.encode()
        self._memo: dict[str, str] = {}

    def key(self, identifier: str) -> str:
        found = self._memo.get(identifier)
        if found is None:
            digest = hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()
            found = self._memo[identifier] = digest[:KEY_LENGTH]
        return found

    def keys(self, identifiers: pd.Series) -> pd.Series:
        """Keys for a column of ids; nulls stay null."""
        present = identifiers.dropna()
        mapping = {i: self.key(i) for i in present.unique()}
        return identifiers.map(mapping).astype("string")
