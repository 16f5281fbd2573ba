"""The SQLite side of story grouping: story assignment, re-partitioning, rebuild.

No Scrapy. :class:`crawler.storage.corpus.Corpus` owns one :class:`StoryIndex` and
calls it for every article it writes, inside its write transaction and in
arrival order: :meth:`StoryIndex.assign_story` (the story it joins, or a new
one), then :meth:`StoryIndex.add` (its postings, features and sentences; an
article that joined a story then has that story and its neighbour
re-partitioned, moving stored articles between stories), and
:meth:`StoryIndex.finish` at the end of each transaction. The index of an
article covers its near-duplicate fingerprints too (:attr:`StoryIndex.near`,
:mod:`crawler.storage.nearindex`): one ``article_features`` row holds both. The
decisions are made by the pure modules :mod:`crawler.dedup.near` and
:mod:`crawler.stories`.

Tables (:mod:`crawler.storage.schema`):

* ``story_terms (term, article_id)``: each article's :data:`stories.KEY_TERMS`
  heaviest terms, the way to the candidate articles of the same story
  (:mod:`crawler.storage.postings`).
* ``article_features``: per article, its day, sketch sizes and stored terms.
* ``corpus_state``: the corpus' term document frequencies (one blob).
* ``story_sentences``: every sentence of every article, marked with how many
  other outlets' articles of the same story have it too (the story view).
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from crawler.dedup import near as neardup
from crawler.dedup.near import Sketch
from crawler.storage.nearindex import NearIndex
from crawler.storage.postings import Postings, _capped_counts_sql
from crawler.stories import grouping as stories
from crawler.stories import repartition

if TYPE_CHECKING:
    from crawler.features import Features

logger = logging.getLogger(__name__)

WEIGHTS_CACHE = 500
STORY_POSTING_LIMIT = stories.POSTING_LIMIT


def _day(row: dict[str, Any]) -> int | None:
    """The day an article counts from in the story window. A row may say its
    date was guessed from the text (``published_guessed``, from extraction's
    ``guessed`` set): such a date is not trusted for the window."""
    return stories.day_of(row.get("published"), bool(row.get("published_guessed")))


class StoryIndex:
    def __init__(self, db: Database) -> None:
        self.db = db
        row = db.execute("SELECT docs, blob FROM corpus_state WHERE name = 'df'").fetchone()
        self.stats = stories.TermStats.from_bytes(row[0], row[1]) if row else stories.TermStats()
        self._stats_dirty = False
        self._dirty_stories: set[int] = set()
        # url -> (key terms, stored weights) from assign_story, for add
        self._weighed: dict[str, tuple[list[str], dict[str, float]]] = {}
        # url -> the neighbour story (or None) of an article that joined a story:
        # add re-partitions the two once the article is stored
        self._joined: dict[str, int | None] = {}
        # similarities of stored article pairs, for re-partitioning
        self._pairs = repartition.PairCache()
        #: articles moved to another story by re-partitioning (a crawl statistic)
        self.articles_moved = 0
        #: every story changed since the writer opened (or last settled) the corpus
        self.touched_stories: set[int] = set()
        # stories created in this transaction for a new article: no sentences to match yet
        self._fresh_stories: set[int] = set()
        # stored term weights of recently added or compared articles (the usual
        # candidates): decoding them from JSON was the writer's largest cost
        self._weights_cache: OrderedDict[int, dict[str, float]] = OrderedDict()
        self.postings = Postings(db)
        #: near-duplicate fingerprints and lookups
        self.near = NearIndex(db, self.postings)

    # --- writing articles ---------------------------------------------------------

    def assign_story(
        self,
        row: dict[str, Any],
        story_id: int | None = None,
        tf: Mapping[str, float] | None = None,
    ) -> tuple[int, Mapping[str, float]]:
        """The story a new article (not yet inserted) joins; creates one if needed.

        ``story_id`` imposes the story (an earlier copy replacing a stored article
        takes over its story). ``tf`` is the article's :func:`stories.terms`, if
        already computed (the cleaning workers do: :mod:`crawler.features`).
        """
        if tf is None:
            tf = dict(stories.terms(row.get("title"), row.get("text") or ""))
        self.stats.add(tf)
        self._stats_dirty = True
        vec = stories.weigh(tf, self.stats)
        keys = self._keys(row, tf, vec)
        if story_id is not None:
            return story_id, tf
        day = _day(row)
        decision = stories.choose_story(
            tf, day, self._candidates(keys, day), self.stats, weighed=vec
        )
        if decision.story_id is not None:
            self._joined[row["url"]] = decision.neighbour
            return decision.story_id, tf
        story_id = self.new_story(row)
        self._fresh_stories.add(story_id)
        return story_id, tf

    def _keys(
        self, row: dict[str, Any], tf: Mapping[str, float], vec: dict[str, float]
    ) -> list[str]:
        """The article's key terms and stored weights (kept for :meth:`add`), from
        its weighed terms ``vec``."""
        keys, stored = stories.key_and_stored_terms(tf, self.stats, vec)
        self._weighed[row["url"]] = (keys, stored)
        return keys

    def new_story(self, row: dict[str, Any]) -> int:
        cur = self.db.execute(
            "INSERT INTO stories (title, first_published, article_count) VALUES (?, ?, 0)",
            [row.get("title"), row.get("published")],
        )
        assert cur.lastrowid is not None  # (an INSERT gives its row's id)
        return cur.lastrowid

    def _candidates(self, keys: list[str], day: int | None) -> list[stories.Candidate]:
        if not keys:
            return []
        # One query: the newest STORY_POSTING_LIMIT articles of each key term,
        # counted per article in SQLite; the articles sharing the most key
        # terms first (the newest first on ties).
        hashes = sorted({stories.term_hash(t) for t in keys})
        hits = dict(
            self.db.execute(
                _capped_counts_sql("story_terms", "term", len(hashes), STORY_POSTING_LIMIT)
                + f" ORDER BY n DESC, article_id DESC LIMIT {stories.MAX_CANDIDATES * 3}",
                hashes,
            ).fetchall()
        )
        if not hits:
            return []
        chosen = list(hits)
        rows = self.db.execute(
            "SELECT f.article_id, a.story_id, f.day FROM article_features f "
            f"JOIN articles a ON a.id = f.article_id WHERE f.article_id IN "
            f"({','.join('?' * len(chosen))})",
            chosen,
        ).fetchall()
        picked = []
        for aid, story_id, cday in sorted(rows, key=lambda r: (-hits[r[0]], -r[0])):
            if story_id is None or not stories.same_time(day, cday):
                continue
            picked.append((aid, story_id, cday))
            if len(picked) >= stories.MAX_CANDIDATES:
                break
        weights = self._stored_weights([aid for aid, _, _ in picked])
        return [
            stories.Candidate(aid, story_id, cday, weights[aid])
            for aid, story_id, cday in picked
            if aid in weights
        ]

    def _stored_weights(self, ids: list[int]) -> dict[int, dict[str, float]]:
        """The stored term weights of articles: from the cache of recent ones, or decoded."""
        found = {}
        missing = []
        for aid in ids:
            cached = self._weights_cache.get(aid)
            if cached is None:
                missing.append(aid)
            else:
                self._weights_cache.move_to_end(aid)
                found[aid] = cached
        if missing:
            for aid, terms in self.db.execute(
                "SELECT article_id, terms FROM article_features WHERE article_id IN"
                f" ({','.join('?' * len(missing))})",
                missing,
            ):
                found[aid] = json.loads(terms)
                self._remember_weights(aid, found[aid])
        return found

    def rolled_back(self) -> None:
        """The write transaction failed: forget what it may have cached (the
        ids of articles it inserted will be given again)."""
        self._weights_cache.clear()
        self._pairs.clear()
        self.postings.staged = self.postings.count_staged()
        self._fresh_stories.clear()
        self._weighed.clear()
        self._joined.clear()

    def _remember_weights(self, article_id: int, weights: dict[str, float]) -> None:
        self._weights_cache[article_id] = weights
        self._weights_cache.move_to_end(article_id)
        while len(self._weights_cache) > WEIGHTS_CACHE:
            self._weights_cache.popitem(last=False)

    def add(
        self,
        article_id: int,
        row: dict[str, Any],
        story_id: int,
        tf: Mapping[str, float],
        sk: Sketch | None = None,
        sentences: list[tuple[str, str | None]] | None = None,
    ) -> None:
        """Index a written article: fingerprints, key terms, features, sentences.

        ``sk`` and ``sentences`` are the article's sketch and (sentence, key)
        list when already computed (:mod:`crawler.features`)."""
        if sk is None:
            sk = neardup.sketch(row.get("text") or "")
        self.near.add(article_id, sk)
        weighed = self._weighed.pop(row["url"], None)
        keys, stored = weighed or stories.key_and_stored_terms(tf, self.stats)
        self._remember_weights(article_id, stored)
        self.postings.add("story_terms", "term", [(stories.term_hash(k), article_id) for k in keys])
        self.db.execute(
            "INSERT OR REPLACE INTO article_features (article_id, day, shingles, fingerprints,"
            " keys, terms) VALUES (?, ?, ?, ?, ?, ?)",
            [
                article_id,
                _day(row),
                sk.size,
                len(sk.fingerprints),
                json.dumps(keys, ensure_ascii=False),
                json.dumps(stored, ensure_ascii=False),
            ],
        )
        if sentences is None:
            sentences = [
                (s, stories.sentence_key(s)) for s in stories.sentences(row.get("text") or "")
            ]
        self._add_sentences(article_id, story_id, row.get("site"), sentences)
        self._dirty_stories.add(story_id)
        if row["url"] in self._joined:
            self._regroup(story_id, self._joined.pop(row["url"]))

    def _regroup(self, story_id: int, neighbour: int | None) -> None:
        """An article joined ``story_id``: re-partition the newest members of that
        story and of its ``neighbour`` story (:func:`repartition.regrouped`), and move
        the articles whose story changed, with their sentences."""
        labels: dict[int, int] = {}
        for sid in (story_id, neighbour):
            if sid is not None:
                labels.update(
                    self.db.execute(
                        "SELECT id, story_id FROM articles WHERE story_id = ? ORDER BY id DESC LIMIT ?",
                        [sid, repartition.RECLUSTER_MEMBERS],
                    ).fetchall()
                )
        ids = sorted(labels)
        if neighbour is None and len(ids) < 2 * repartition.SPLIT_MIN:
            return
        weights = self._stored_weights(ids)
        ids = [a for a in ids if a in weights]
        moves = repartition.regrouped(
            ids,
            [labels[a] for a in ids],
            [weights[a] for a in ids],
            self._pairs,
            merge=neighbour is not None,
        )
        changed: set[int] = set()
        moved_all: list[int] = []
        for group, target in moves:
            if target is None:
                target = self.new_story({})
            moved = [a for a in group if labels[a] != target]
            if not moved:
                continue
            changed.add(target)
            changed.update(labels[a] for a in moved)
            self.articles_moved += len(moved)
            moved_all += moved
            self.move(moved, target)
        if not moved_all:
            return
        # only the sentences the moved articles have can change their counts
        keys: set[str] = set()
        for k in range(0, len(moved_all), 500):
            chunk = moved_all[k : k + 500]
            keys.update(
                key
                for (key,) in self.db.execute(
                    "SELECT DISTINCT key FROM story_sentences WHERE key IS NOT NULL AND article_id IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        for sid in sorted(changed):
            self.recount_sentences(sid, sorted(keys))
        self._dirty_stories.update(changed)

    def move(self, article_ids: list[int], story_id: int) -> None:
        """Move stored articles (with their sentences) to ``story_id``; the caller
        recounts the sentences of the stories that changed."""
        for k in range(0, len(article_ids), 500):
            chunk = article_ids[k : k + 500]
            marks = ",".join("?" * len(chunk))
            self.db.execute(
                f"UPDATE articles SET story_id = ? WHERE id IN ({marks})", [story_id, *chunk]
            )
            self.db.execute(
                f"UPDATE story_sentences SET story_id = ? WHERE article_id IN ({marks})",
                [story_id, *chunk],
            )

    def touch(self, story_ids: set[int]) -> None:
        """Stories whose members changed: :meth:`finish` updates them."""
        self._dirty_stories |= story_ids

    def forget_pairs(self) -> None:
        """Stored weights changed (:meth:`rekey`): the cached similarities go."""
        self._pairs.clear()

    def rekey(self, article_id: int, keys: list[str], stored: dict[str, float]) -> bool:
        """New key terms (postings) and stored weights of a stored article (weighed
        again: :mod:`crawler.storage.settle`). True if they changed. (The caller
        clears the pair cache.)"""
        row = self.db.execute(
            "SELECT keys, terms FROM article_features WHERE article_id = ?", [article_id]
        ).fetchone()
        new_keys, new_terms = (
            json.dumps(keys, ensure_ascii=False),
            json.dumps(stored, ensure_ascii=False),
        )
        if row is None or (row[0], row[1]) == (new_keys, new_terms):
            return False
        old = json.loads(row[0] or "[]")
        if old != keys:
            # only the postings of the key terms that came or went (a posting is
            # a set member: the key terms kept keep theirs, in whichever part)
            was = {stories.term_hash(k) for k in old}
            now = {stories.term_hash(k) for k in keys}
            self.postings.remove(
                "story_terms", "term", [(h, article_id) for h in sorted(was - now)]
            )
            self.postings.add("story_terms", "term", [(h, article_id) for h in sorted(now - was)])
        self.db.execute(
            "UPDATE article_features SET keys = ?, terms = ? WHERE article_id = ?",
            [new_keys, new_terms, article_id],
        )
        self._remember_weights(article_id, stored)
        return True

    def _add_sentences(
        self,
        article_id: int,
        story_id: int,
        site: str | None,
        sentences: list[tuple[str, str | None]],
    ) -> None:
        """Store the article's sentences, each with how many other outlets of the
        story have it, and count this outlet in the other articles' sentences.

        SQLite does the counting (one row per shared key comes back, one UPDATE
        bumps the others), so the Python work stays the same however many
        articles of a large story share a sentence."""
        outlets: dict[str, int] = {}
        bump: list[str] = []
        keys = sorted({k for _, k in sentences if k is not None})
        fresh = story_id in self._fresh_stories
        self._fresh_stories.discard(story_id)  # the next article of the story looks it up
        if keys and not fresh:
            # one query per 500 keys (a story created for this article has none yet)
            for k in range(0, len(keys), 500):
                chunk = keys[k : k + 500]
                for key, others, mine in self.db.execute(
                    "SELECT key, count(DISTINCT CASE WHEN site IS ? THEN NULL"
                    " ELSE coalesce(site, '') END), max(site IS ?) FROM story_sentences"
                    f" WHERE story_id = ? AND key IN ({','.join('?' * len(chunk))})"
                    " AND article_id != ? GROUP BY key",
                    [site, site, story_id, *chunk, article_id],
                ):
                    outlets[key] = others
                    # this outlet is new for those sentences unless another
                    # article of the same outlet in the story has one already
                    if not mine:
                        bump.append(key)
        for k in range(0, len(bump), 500):
            chunk = bump[k : k + 500]
            self.db.execute(
                "UPDATE story_sentences SET outlets = outlets + 1 WHERE story_id = ? AND key IN"
                f" ({','.join('?' * len(chunk))}) AND article_id != ?",
                [story_id, *chunk, article_id],
            )
        rows = [
            (story_id, article_id, site, pos, sentence, key, outlets.get(key, 0) if key else 0)
            for pos, (sentence, key) in enumerate(sentences)
        ]
        if rows:
            self.db.conn.executemany(
                "INSERT INTO story_sentences (story_id, article_id, site, position, sentence,"
                " key, outlets) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def remove(self, article_id: int) -> None:
        """Forget a stored article's index entries (before it is deleted or re-indexed)."""
        self._weights_cache.pop(article_id, None)
        self._pairs.forget(article_id)
        row = self.db.execute(
            "SELECT a.title, a.text, a.story_id, f.keys FROM articles a LEFT JOIN"
            " article_features f ON f.article_id = a.id WHERE a.id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            return
        title, text, story_id, keys = row
        self.near.remove(article_id, text or "")
        self.postings.remove(
            "story_terms",
            "term",
            [(stories.term_hash(k), article_id) for k in json.loads(keys or "[]")],
        )
        self.db.execute("DELETE FROM article_features WHERE article_id = ?", [article_id])
        self.db.execute("DELETE FROM story_sentences WHERE article_id = ?", [article_id])
        if keys is not None:
            self.stats.add(stories.terms(title, text or ""), sign=-1)
            self._stats_dirty = True
        if story_id is not None:
            self._dirty_stories.add(story_id)
            self.recount_sentences(story_id)

    def reindex(self, article_id: int) -> None:
        """An article's text changed (same URL; :meth:`remove` was called before the
        update): index its new text, keep its story."""
        row = self.db.execute(
            "SELECT url, title, text, published, site, story_id FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        if row is None:
            return
        data = dict(
            zip(("url", "title", "text", "published", "site", "story_id"), row, strict=False)
        )
        story_id = data["story_id"]
        if story_id is None:
            story_id = self.new_story(data)
            self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
        tf = dict(stories.terms(data["title"], data["text"] or ""))
        self.stats.add(tf)
        self._stats_dirty = True
        self.add(article_id, data, story_id, tf)
        self.recount_sentences(story_id)

    def recount_sentences(self, story_id: int, keys: list[str] | None = None) -> None:
        """Recompute, for one story, how many other outlets share each sentence
        (only the sentences with one of ``keys``, if given)."""
        sql = (
            "UPDATE story_sentences SET outlets = (SELECT count(DISTINCT coalesce(o.site, ''))"
            " FROM story_sentences o WHERE o.story_id = story_sentences.story_id AND"
            " o.key = story_sentences.key AND o.site IS NOT story_sentences.site)"
            " WHERE story_id = ? AND key IS NOT NULL"
        )
        if keys is None:
            self.db.execute(sql, [story_id])
            return
        for k in range(0, len(keys), 500):
            chunk = keys[k : k + 500]
            self.db.execute(sql + f" AND key IN ({','.join('?' * len(chunk))})", [story_id, *chunk])

    # --- end of a transaction -------------------------------------------------------

    def finish(self) -> None:
        """Update the changed stories' title, first publication and size; keep the df."""
        if self._dirty_stories:
            self.touched_stories |= self._dirty_stories
            ids = sorted(self._dirty_stories)
            for k in range(0, len(ids), 500):
                chunk = ids[k : k + 500]
                marks = ",".join("?" * len(chunk))
                self.db.execute(
                    "UPDATE stories SET"
                    " article_count = (SELECT count(*) FROM articles a WHERE a.story_id = stories.id),"
                    " first_published = (SELECT min(published) FROM articles a"
                    "   WHERE a.story_id = stories.id),"
                    " title = coalesce((SELECT title FROM articles a WHERE a.story_id = stories.id"
                    "   ORDER BY a.published IS NULL, a.published, a.url LIMIT 1), title)"
                    f" WHERE id IN ({marks})",
                    chunk,
                )
                self.db.execute(
                    f"DELETE FROM stories WHERE id IN ({marks}) AND article_count = 0 AND NOT"
                    " EXISTS (SELECT 1 FROM articles a WHERE a.story_id = stories.id)",
                    chunk,
                )
            self._dirty_stories.clear()
        self._fresh_stories.clear()
        self._weighed.clear()
        self._joined.clear()
        self.fold()
        if self._stats_dirty:
            self.db.execute(
                "INSERT INTO corpus_state (name, docs, blob) VALUES ('df', ?, ?) ON CONFLICT(name)"
                " DO UPDATE SET docs = excluded.docs, blob = excluded.blob",
                [self.stats.docs, self.stats.to_bytes()],
            )
            self._stats_dirty = False

    def fold(self, everything: bool = False) -> int:
        """Fold staged postings into the large tables (:meth:`Postings.fold`)."""
        return self.postings.fold(everything)

    # --- offline -------------------------------------------------------------------

    def rebuild(
        self, known: Mapping[int, tuple[str | None, str, Features]] | None = None
    ) -> tuple[int, int]:
        """Recompute every story (and the story index) from the stored articles.

        ``known``: article id -> (title, text, their :mod:`crawler.features`),
        computed already; used for an article whose stored title and text are
        still those (the cold-start regrouping has them from the cleaning
        workers), computed again otherwise.

        Returns (articles, stories). Runs inside the caller's transaction.
        """
        rows = self.db.execute(
            "SELECT id, url, title, text, published, site, published_guessed FROM articles"
            " ORDER BY id"
        ).fetchall()
        docs, data = [], {}
        for aid, url, title, text, published, site, guessed in rows:
            feats = (known or {}).get(aid)
            if feats is not None and (feats[0], feats[1]) != (title, text):
                feats = None  # the stored text changed since (an update, learnt chrome lines)
            tf = dict(feats[2].terms) if feats else dict(stories.terms(title, text or ""))
            # a date guessed from the text does not count for the window, as online
            docs.append(repartition.Doc(aid, stories.day_of(published, bool(guessed)), tf))
            data[aid] = {
                "url": url,
                "title": title,
                "text": text,
                "published": published,
                "site": site,
                "tf": tf,
                "features": feats[2] if feats else None,
            }
        story_of = repartition.regroup(docs)
        self._weights_cache.clear()
        self._pairs.clear()  # every stored weight is computed again
        for table in ("story_sentences", "article_features"):
            self.db.execute(f"DELETE FROM {table}")
        self.postings.clear()
        self.db.execute("UPDATE articles SET story_id = NULL")
        self.db.execute("DELETE FROM stories")
        self.stats = stories.TermStats()
        for doc in docs:
            self.stats.add(doc.tf)
        self._stats_dirty = True
        ids: dict[int, int] = {}
        for doc in docs:
            d = data[doc.article_id]
            group = story_of[doc.article_id]
            if group not in ids:
                ids[group] = self.new_story(d)
            sid = ids[group]
            self.db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [sid, doc.article_id])
            f = d["features"]
            self.add(
                doc.article_id, d, sid, d["tf"], f.sketch if f else None, f.sentences if f else None
            )
        self.fold(everything=True)
        self.finish()
        return len(docs), len(ids)
