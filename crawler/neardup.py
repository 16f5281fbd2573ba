"""Near-duplicate detection: syndicated and lightly edited copies.

Pure: no Scrapy, no SQLite. Storage keeps the fingerprints in SQLite
(``neardup_fingerprints``) and asks this module what to store and how to judge
a candidate.

Method (deterministic, no seeds: every hash is blake2b of the text itself):

* A text is reduced to its word 5-shingles (lowercased, NFKC, punctuation
  dropped: the same tokens as :func:`crawler.dedup.tokens`).
* *Winnowing* (Schleimer, Wilkerson & Aiken 2003) keeps the minimum shingle
  hash of every window of :data:`WINDOW` consecutive shingles. Any passage of
  ``WINDOW + SHINGLE - 1`` words that two texts share yields at least one
  common fingerprint, so a short copy embedded in a longer page is found as
  surely as a full copy (MinHash-LSH estimates Jaccard similarity and misses
  those). About ``2 / (WINDOW + 1)`` of the shingles are kept.
* Candidates are stored articles that share at least :data:`CANDIDATE_SHARE`
  of the smaller fingerprint set (an estimate of containment).
* Each candidate is verified exactly: the containment of the shorter text's
  shingle set in the longer one's. At least :data:`MIN_CONTAINMENT` makes it
  a near-duplicate; the shorter text needs :data:`MIN_SHINGLES` shingles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from crawler.dedup import tokens

SHINGLE = 5
WINDOW = 12
MIN_SHINGLES = 20
CANDIDATE_SHARE = 0.4
MIN_CONTAINMENT = 0.8


def _hash(text: str) -> int:
    """A stable signed 64-bit hash (fits an SQLite INTEGER)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "little", signed=True)


def shingles(text: str, k: int = SHINGLE) -> list[int]:
    """Hashes of the word k-shingles of ``text``, in text order (with repeats)."""
    words = tokens(text)
    if len(words) < k:
        return [_hash(" ".join(words))] if words else []
    return [_hash(" ".join(words[i:i + k])) for i in range(len(words) - k + 1)]


def winnow(hashes: list[int], window: int = WINDOW) -> set[int]:
    """The winnowing fingerprints of a hash sequence (the minimum of each window)."""
    if len(hashes) <= window:
        return {min(hashes)} if hashes else set()
    return {min(hashes[i:i + window]) for i in range(len(hashes) - window + 1)}


@dataclass
class Sketch:
    """What near-duplicate detection needs to know about one text."""

    shingles: frozenset[int]
    fingerprints: frozenset[int]

    @property
    def size(self) -> int:
        return len(self.shingles)


def sketch(text: str) -> Sketch:
    seq = shingles(text)
    return Sketch(frozenset(seq), frozenset(winnow(seq)))


def is_candidate(shared: int, n_new: int, n_old: int) -> bool:
    """Enough shared fingerprints to be worth an exact comparison?"""
    smaller = min(n_new, n_old)
    return smaller > 0 and shared >= max(1, CANDIDATE_SHARE * smaller)


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    """The share of the smaller set's shingles that the other set also has."""
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    if not small:
        return 0.0
    return len(small & big) / len(small)


def near_duplicate(a: Sketch, b: Sketch) -> float | None:
    """The similarity (containment of the shorter) when ``a`` and ``b`` are copies."""
    if min(a.size, b.size) < MIN_SHINGLES:
        return None
    c = containment(a.shingles, b.shingles)
    return round(c, 4) if c >= MIN_CONTAINMENT else None
