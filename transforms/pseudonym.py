"""Keyed hashes for identifiers: the warehouse never holds a raw employee_id."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import numpy as np
import pandas as pd
import pyarrow as pa

KEY_LENGTH = 32  # hex characters: 128 bits, plenty against collision for a workforce


# scrypt's cost, so that a leaked warehouse does not let anyone test guesses of the key
# at the speed of a plain hash.
SCRYPT_COST = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def fingerprint(secret: str, salt: bytes | None = None) -> str:
    """A salted, slow, non-reversible tag of the key, so a warehouse can refuse another."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **SCRYPT_COST)
    return f"scrypt${salt.hex()}${digest.hex()}"


def legacy_fingerprint(secret: str) -> str:
    """The tag rxstaff 0.1 stored: a fast hash, accepted once and then replaced."""
    return hashlib.sha256(b"rxstaff-secret-fingerprint:" + secret.encode()).hexdigest()[:16]


def matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the key ``stored`` was made from (either form)."""
    if stored.startswith("scrypt$"):
        _, salt, _ = stored.split("$")
        return hmac.compare_digest(fingerprint(secret, bytes.fromhex(salt)), stored)
    return hmac.compare_digest(legacy_fingerprint(secret), stored)


class Pseudonymiser:
    """HMAC-SHA256 of identifiers, memoised: a workforce has few distinct ids and many rows."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the pseudonymisation secret is empty")
        self._key = secret.encode()
        self._memo: dict[str, str] = {}

    def __getstate__(self) -> dict[str, object]:
        # Sent to a Dask worker with every chunk: the key, not this process's memo (a
        # run's 60,000 ids pickled once per task submitted).
        return {"_key": self._key, "_memo": {}}

    def key(self, identifier: str) -> str:
        found = self._memo.get(identifier)
        if found is None:
            digest = hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()
            found = self._memo[identifier] = digest[:KEY_LENGTH]
        return found

    def keys(self, identifiers: pd.Series) -> pd.Series:
        """Keys for a column of ids; nulls stay null. Each distinct id is hashed once and
        its key spread over the rows by position, by Arrow: a roster chunk holds each id
        many times, and a Python string per row cost more than the hashing."""
        codes, uniques = pd.factorize(identifiers, use_na_sentinel=True)
        keyed = pa.array([self.key(str(i)) for i in uniques.tolist()] + [None], pa.string())
        spread = keyed.take(np.where(codes < 0, len(uniques), codes))
        return pd.Series(
            pd.arrays.ArrowStringArray(spread), index=identifiers.index, dtype="string"
        )
