"""Another address of a stored article: an AMP page, a print view, tracking
parameters (a fetched URL that is not the article's, with its canonical URL).

Pure: no Scrapy. The writer (:meth:`crawler.storage.corpus.Corpus.add_article`)
asks what a page fetched from another address than the stored article's says
(:func:`crawler.dedup.decision.address`): the text of the best address fetched
is the one stored (:func:`crawler.dedup.decision.address_rank`: the article's
own page first), whatever the order the addresses came in, and a variant's
text is never a version of the article.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlite_utils import Database

from crawler import features
from crawler.dedup import decision as dedup
from crawler.dedup import near as neardup
from crawler.items import Article
from crawler.storage.db import write_transaction
from crawler.storage.writer import copies_table, keep_copies

if TYPE_CHECKING:
    from crawler.dedup.decision import Outcome
    from crawler.storage.corpus import Corpus


def address(
    db: Database, url: str, fetched: str, stored: tuple[int, str, str | None], article: Article
) -> str:
    """:func:`crawler.dedup.decision.address` of a changed text of the article
    stored at ``url`` (``stored``: its id, content hash and fetched URL)."""
    if fetched == (stored[2] or url):
        return "same"
    row = db.execute("SELECT text, published FROM articles WHERE id = ?", [stored[0]]).fetchone()
    old = neardup.sketch(row[0] or "").shingles
    near = neardup.containment(old, features.of(article).sketch.shingles)
    return dedup.address(
        url,
        fetched,
        stored[2],
        near_same=near >= neardup.MIN_CONTAINMENT,
        published=article.published,
        stored_published=row[1],
        content_hash=article.content_hash,
        stored_hash=stored[1],
    )


def better_address(
    db: Database, url: str, fetched: str, stored: tuple[int, str, str | None]
) -> bool:
    """The stored text, fetched from a better address: the article's text comes
    from there now (its ``fetched_url``). True if it was better."""
    if dedup.address_rank(url, fetched) >= dedup.address_rank(url, stored[2]):
        return False
    with write_transaction(db):
        db.execute("UPDATE articles SET fetched_url = ? WHERE id = ?", [fetched, stored[0]])
    return True


def better_copy(corpus: Corpus, url: str, fetched: str, article: Article) -> None:
    """``url`` is a duplicate this crawl keeps the text of (and the raw page):
    the page of a better address (:func:`crawler.dedup.decision.address_rank`)
    replaces both, as it would have had it come first."""
    rank = dedup.address_rank(url, fetched)
    waiting = corpus.batch.copies.get(url)
    if waiting is not None:
        if rank < dedup.address_rank(url, waiting["fetched_url"]):
            corpus.batch.copies[url] = corpus._row(article)
            corpus._keep_page(article)
        return
    db = corpus.db
    row = db.execute(
        f"SELECT row FROM {copies_table(db)} WHERE url = ? AND crawl_id IS ?",
        [url, corpus.crawl_id],
    ).fetchone()
    if row is not None and rank < dedup.address_rank(url, json.loads(row[0]).get("fetched_url")):
        with write_transaction(db):
            keep_copies(db, [corpus._row(article)])
        corpus._keep_page(article)


def record_requested_url(corpus: Corpus, article: Article, outcome: Outcome) -> None:
    """The URL a redirect led away from (``article.requested_url``): a ``url``
    duplicate of the article kept, unless the corpus knows that URL already.
    Called after :meth:`Corpus.add_article` by the crawl's writer and by the
    scale-out drain alike."""
    requested = article.requested_url
    if not requested or corpus.is_known_url(requested):
        return
    kept: str | None = article.url
    if outcome.status == "duplicate":
        waiting = corpus.batch.duplicates.get(article.url)
        kept = waiting.get("kept_url") if waiting else None
        if kept is None and outcome.article_id is not None:
            row = corpus.db.execute(
                "SELECT url FROM articles WHERE id = ?", [outcome.article_id]
            ).fetchone()
            kept = row[0] if row else None
    if kept is not None:
        corpus.add_url_duplicate(requested, kept, article.site)
