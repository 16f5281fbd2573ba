"""Exact-duplicate detection: a fingerprint of the normalised clean text.

Pure: no Scrapy. Two texts that differ only in case, punctuation, spacing or
Unicode form get the same fingerprint.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

_TOKEN = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=8)
def tokens(text: str) -> tuple[str, ...]:
    """The word tokens of ``text`` (NFKC, case-folded). Cached for the last few
    texts: the content hash and the near-duplicate sketch of an article both
    start from them."""
    return tuple(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()))


def content_hash(text: str) -> str:
    """sha256 over the text's word tokens, lowercased, NFKC-normalised."""
    return hashlib.sha256(" ".join(tokens(text)).encode("utf-8")).hexdigest()
