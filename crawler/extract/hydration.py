"""The article body of a page that ships it only in a script's JSON.

Pure: no Scrapy. Single-page-application front ends (Next.js, Nuxt and the like)
often render the body in the browser from a JSON state embedded in a
``<script>`` (``__NEXT_DATA__``, a dehydrated query cache, a ``window.__STATE__``
assignment): the served HTML has no paragraph of it, and every extractor finds
nothing. :func:`hydrated_body` looks for the longest JSON string in the page's
scripts that is the HTML of an article body (markup with several paragraphs or
line breaks and enough prose) and returns it, so the main extractor can read it.
It is a fallback: :mod:`crawler.extract.maintext` calls it only when the page's
own markup yields next to no text.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: a JSON string literal of at least this many characters (escapes included)
MIN_LITERAL = 400
_LITERAL = re.compile(rf'"((?:[^"\\]|\\.){{{MIN_LITERAL},}})"', re.S)
_BLOCK = re.compile(r"<(?:p|br|h[2-6]|li|blockquote)\b", re.I)
_TAG = re.compile(r"<[^>]+>")
#: the body must have this many words of text outside its markup
MIN_WORDS = 80
#: and at least this many paragraphs or line breaks
MIN_BLOCKS = 3


def _candidates(script: str) -> list[str]:
    out = []
    for m in _LITERAL.finditer(script):
        raw = m.group(1)
        if "\\u003c" not in raw and "<" not in raw:
            continue  # not markup
        try:
            value = json.loads(f'"{raw}"')
        except ValueError:
            continue
        if len(_BLOCK.findall(value)) >= MIN_BLOCKS:
            out.append(value)
    return out


def hydrated_body(tree: Any) -> str | None:
    """The HTML of the longest article-like body in the page's script JSON."""
    best, best_words = None, MIN_WORDS - 1
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() in ("application/ld+json", "text/css"):
            continue
        text = script.text or ""
        if len(text) < MIN_LITERAL:
            continue
        for value in _candidates(text):
            words = len(_TAG.sub(" ", value).split())
            if words > best_words:
                best, best_words = value, words
    return best
