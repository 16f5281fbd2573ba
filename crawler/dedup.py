"""Exact-duplicate detection: a fingerprint of the normalised clean text.

Pure: no Scrapy. Two texts that differ only in case, punctuation, spacing or
Unicode form get the same fingerprint.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def content_hash(text: str) -> str:
    """sha256 over the text's word tokens, lowercased, NFKC-normalised."""
    return hashlib.sha256(" ".join(tokens(text)).encode("utf-8")).hexdigest()
