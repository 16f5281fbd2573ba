"""The SQLite side of near-duplicate detection: fingerprint postings and lookups.

Pure: no Scrapy. Every stored article's winnowing fingerprints are postings of
``neardup_fingerprints`` (:mod:`crawler.storage.postings`); looking up a new
article costs one index probe per fingerprint (each reading at most
:data:`POSTING_LIMIT` rows), whatever the corpus size. The articles waiting in
the writer's batch are searched through their own fingerprints
(:meth:`crawler.storage.pending.Pending.sharing`). The decisions (which
candidates to compare, how similar is a copy) are :mod:`crawler.dedup.near`'s.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from sqlite_utils import Database

from crawler.dedup import near as neardup
from crawler.dedup.decision import Copy
from crawler.dedup.near import Sketch
from crawler.storage.postings import Postings, _capped_counts_sql

if TYPE_CHECKING:
    from crawler.storage.pending import Pending

POSTING_LIMIT = 20
CANDIDATE_QUERY_MAX = 900
TABLE, KEY = "neardup_fingerprints", "hash"


# Stored articles sharing fingerprints with a new text, filtered as
# neardup.is_candidate does ({counts}: _capped_counts_sql over the fingerprints;
# {n_new}: the new text's fingerprint count). A stored text of fewer than
# neardup.MIN_SHINGLES shingles is never a copy (neardup.near_duplicate), so it
# is no candidate. Most counted articles share one or two template phrases
# with the new text: the HAVING drops those before they are joined, with the
# threshold of the smallest fingerprint count of a stored article that can be
# a copy (read from the partial index of migration m011; no candidate's own
# threshold is lower, so the result is the same).
_MIN_FINGERPRINTS_SQL = (
    f"SELECT min(fingerprints) FROM article_features WHERE shingles >= {neardup.MIN_SHINGLES!r}"
)
_CANDIDATES_SQL = (
    "SELECT c.article_id, c.n FROM ({counts}"
    f" HAVING n >= max(1, {neardup.CANDIDATE_SHARE!r} * min({{n_new}},"
    f" coalesce(({_MIN_FINGERPRINTS_SQL}), 0)))) c"
    " JOIN article_features f ON f.article_id = c.article_id"
    f" WHERE f.shingles >= {neardup.MIN_SHINGLES!r} AND min({{n_new}}, f.fingerprints) > 0"
    f" AND c.n >= max(1, {neardup.CANDIDATE_SHARE!r} * min({{n_new}}, f.fingerprints))"
    " ORDER BY c.article_id"
)


class NearIndex:
    def __init__(self, db: Database, postings: Postings) -> None:
        self.db = db
        self.postings = postings

    def find(
        self,
        sk: Sketch,
        exclude: set[int] | frozenset[int] = frozenset(),
        waiting: Pending | None = None,
        skip: str | None = None,
        links: list[tuple[str, float]] | None = None,
    ) -> Copy | None:
        """The closest copy of the text ``sk`` sketches among the articles
        ``waiting`` in the batch (but ``skip``) and the stored ones (but those in
        ``exclude``: already being replaced), if any. ``links`` collects every
        copy found, the closest or not, as (url, similarity)."""
        if sk.size < neardup.MIN_SHINGLES:
            return None
        best: Copy | None = None
        # pending articles of this batch
        for url, n, other, pub in waiting.sharing(sk) if waiting is not None else ():
            if url != skip and neardup.is_candidate(
                n, len(sk.fingerprints), len(other.fingerprints)
            ):
                sim = neardup.near_duplicate(sk, other)
                if sim is not None and links is not None:
                    links.append((url, sim))
                if sim is not None and (best is None or sim > best.similarity):
                    best = Copy(sim, url=url, published=pub)
        # the stored corpus
        for aid, _shared in self._stored_candidates(sk):
            if aid in exclude:
                continue
            row = self.db.execute(
                "SELECT text, published, url FROM articles WHERE id = ?", [aid]
            ).fetchone()
            if row is None:
                continue
            sim = neardup.near_duplicate(sk, neardup.sketch(row[0]))
            if sim is not None and links is not None:
                links.append((row[2], sim))
            if sim is not None and (best is None or sim > best.similarity):
                best = Copy(sim, article_id=aid, published=row[1])
        return best

    def copies(
        self, sk: Sketch, sketches: dict[int, tuple[str, Sketch]] | None = None
    ) -> list[tuple[int, str, float]]:
        """Every stored article that is a copy of the text ``sk`` sketches: (id,
        url, similarity), by id. ``sketches`` keeps the (url, sketch) of the
        stored articles compared, for the next call."""
        out: list[tuple[int, str, float]] = []
        if sk.size < neardup.MIN_SHINGLES:
            return out
        known = {} if sketches is None else sketches
        for aid, _shared in self._stored_candidates(sk):
            if aid not in known:
                row = self.db.execute(
                    "SELECT text, url FROM articles WHERE id = ?", [aid]
                ).fetchone()
                if row is None:
                    continue
                known[aid] = (row[1], neardup.sketch(row[0] or ""))
            url, other = known[aid]
            sim = neardup.near_duplicate(sk, other)
            if sim is not None:
                out.append((aid, url, sim))
        return out

    def _stored_candidates(self, sk: Sketch) -> list[tuple[int, int]]:
        """Stored articles that share enough fingerprints with ``sk`` to be worth an
        exact comparison (:func:`neardup.is_candidate`), as (article id, shared).

        Each fingerprint counts at most its :data:`POSTING_LIMIT` newest articles
        (a phrase hundreds of articles share says little), read from the index
        and counted in SQLite: one query for a typical article.
        """
        fps = sorted(sk.fingerprints)
        n_new = len(fps)
        if n_new <= CANDIDATE_QUERY_MAX:
            return [
                tuple(r)
                for r in self.db.execute(
                    _CANDIDATES_SQL.format(
                        counts=_capped_counts_sql(
                            "neardup_fingerprints", "hash", n_new, POSTING_LIMIT
                        ),
                        n_new=int(n_new),
                    ),
                    fps,
                ).fetchall()
            ]
        # a very long text: count chunk by chunk, filter here
        counts: Counter[int] = Counter()
        for k in range(0, n_new, CANDIDATE_QUERY_MAX):
            chunk = fps[k : k + CANDIDATE_QUERY_MAX]
            counts.update(
                dict(
                    self.db.execute(
                        _capped_counts_sql(
                            "neardup_fingerprints", "hash", len(chunk), POSTING_LIMIT
                        ),
                        chunk,
                    ).fetchall()
                )
            )
        if not counts:
            return []
        ids = sorted(counts)
        sizes: dict[int, int] = {}
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            sizes.update(
                self.db.execute(
                    "SELECT article_id, fingerprints FROM article_features WHERE article_id IN"
                    f" ({','.join('?' * len(chunk))}) AND shingles >= {neardup.MIN_SHINGLES!r}",
                    chunk,
                ).fetchall()
            )
        return [
            (aid, counts[aid])
            for aid in ids
            if neardup.is_candidate(counts[aid], n_new, sizes.get(aid, 0))
        ]

    def add(self, article_id: int, sk: Sketch) -> None:
        """Index a written article's fingerprints."""
        self.postings.add(TABLE, KEY, [(fp, article_id) for fp in sorted(sk.fingerprints)])

    def remove(self, article_id: int, text: str) -> None:
        """Forget the fingerprints of a stored article (its stored ``text``)."""
        sk = neardup.sketch(text)
        self.postings.remove(TABLE, KEY, [(fp, article_id) for fp in sk.fingerprints])
