"""Near-duplicate detection: syndicated and lightly edited copies.

Pure: no Scrapy, no SQLite. Storage keeps the fingerprints in SQLite
(``neardup_fingerprints``) and asks this module what to store and how to judge
a candidate.

Method (deterministic, no seeds: every hash derives from blake2b of the words):

* A text is reduced to its word 5-shingles (lowercased, NFKC, punctuation
  dropped: the same tokens as :func:`crawler.dedup.exact.tokens`). Each word is
  hashed once (blake2b, cached), and a shingle's hash is a polynomial of its
  five word hashes modulo 2**63, computed as a rolling hash: one
  multiplication and one addition per word instead of a blake2b call per
  shingle.
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

import functools
import hashlib
from dataclasses import dataclass

from crawler.dedup.exact import tokens

SHINGLE = 5
WINDOW = 12
MIN_SHINGLES = 20
CANDIDATE_SHARE = 0.4
MIN_CONTAINMENT = 0.8


_MASK = (1 << 63) - 1
_BASE = 0x100000001B3  # the 64-bit FNV prime: odd, so the rolling hash is invertible mod 2**63
_BASE_K = pow(_BASE, SHINGLE - 1, 1 << 63)


@functools.lru_cache(maxsize=1 << 17)
def _word_hash(word: str) -> int:
    """A stable 63-bit hash of one word (fits an SQLite INTEGER)."""
    return (
        int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        & _MASK
    )


def shingles(text: str, k: int = SHINGLE) -> list[int]:
    """Hashes of the word k-shingles of ``text``, in text order (with repeats).

    A shingle's hash is ``sum(h(w_j) * BASE**(k-1-j)) mod 2**63`` over its
    words, rolled along the text. A text shorter than ``k`` words gives one
    hash of all its words.
    """
    hs = [_word_hash(w) for w in tokens(text)]
    if not hs:
        return []
    first = min(k, len(hs))
    h = 0
    for value in hs[:first]:
        h = (h * _BASE + value) & _MASK
    out = [h]
    if len(hs) <= k:
        return out
    high = _BASE_K if k == SHINGLE else pow(_BASE, k - 1, 1 << 63)
    append = out.append
    for old, new in zip(hs, hs[k:], strict=False):
        h = ((h - old * high) * _BASE + new) & _MASK
        append(h)
    return out


def winnow(hashes: list[int], window: int = WINDOW) -> set[int]:
    """The winnowing fingerprints of a hash sequence (the minimum of each window)."""
    if len(hashes) <= window:
        return {min(hashes)} if hashes else set()
    return {min(hashes[i : i + window]) for i in range(len(hashes) - window + 1)}


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
