"""What dedup and story grouping need to know about an article, computed once.

Pure: no Scrapy, no SQLite. The cleaning workers compute an article's
:class:`Features` right after cleaning it (:func:`attach`), so the crawl's
single writer only looks things up and writes: the near-duplicate sketch,
the story terms and the story view's sentence keys are the expensive,
per-article part of dedup and grouping, and they depend on nothing but the
article's own title and text.

Features travel with the :class:`~crawler.items.Article` as a plain
attribute (pickled with it to and from the worker processes), not as a
dataclass field: they are never stored, serialised to JSON or shown.
Whoever receives an article without them (the Redis drain, ``reclean``, a
script) gets them computed on first use by :func:`of`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from crawler.dedup import near as neardup
from crawler.dedup.near import Sketch
from crawler.stories import grouping as stories

_ATTR = "_features"


@dataclass
class Features:
    sketch: Sketch
    terms: Counter[str]
    #: (sentence, key) in text order; key is None for sentences too short to compare.
    sentences: list[tuple[str, str | None]]


def compute(title: str | None, text: str) -> Features:
    return Features(
        sketch=neardup.sketch(text),
        terms=stories.terms(title, text),
        sentences=[(s, stories.sentence_key(s)) for s in stories.sentences(text)],
    )


def attach(article: Any) -> Any:
    """Compute ``article``'s features and keep them on it; returns the article."""
    setattr(article, _ATTR, compute(article.title, article.text))
    return article


def of(article: Any) -> Features:
    """The features of ``article`` (computed now if nobody did)."""
    found = getattr(article, _ATTR, None)
    if found is None:
        found = compute(article.title, article.text)
        setattr(article, _ATTR, found)
    return found
