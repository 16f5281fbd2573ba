"""The corpus schema: its tables and the migrations that build them.

Pure: no Scrapy. Every schema change goes through :data:`migrations`
(``sqlite_utils.Migrations``, applied by :func:`crawler.storage.db.open_database`):
never edit an applied migration, add a new one.

The near-duplicate and story tables (:func:`create_tables`, migration
``m004_stories_and_near_duplicates``):

* ``neardup_fingerprints (hash, article_id)``: the winnowing fingerprints of
  every article (:mod:`crawler.storage.nearindex`).
* ``story_terms (term, article_id)``: each article's key terms, the way to the
  candidate articles of the same story (:mod:`crawler.storage.storyindex`).
* ``article_features``: per article, its day, sketch sizes and stored terms.
* ``corpus_state``: the corpus' term document frequencies (one blob).
* ``story_sentences``: every sentence of every article, marked with how many
  other outlets' articles of the same story have it too (the story view).

Each posting table has a staged part ``<table>_new`` (:func:`create_staged_tables`,
:mod:`crawler.storage.postings`).
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

#: the two posting tables, and the name of their key column
POSTINGS = (("neardup_fingerprints", "hash"), ("story_terms", "term"))

migrations = Migrations("newscorpus")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("stories").create(
        {"id": int, "title": str, "first_published": str, "article_count": int},
        pk="id",
    )
    db.table("crawls").create(
        {
            "id": int,
            "spider": str,
            "args": str,
            "started_at": str,
            "finished_at": str,
            "finish_reason": str,
            "stats": str,
        },
        pk="id",
    )
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "title": str,
            "text": str,
            "author": str,
            "published": str,
            "site": str,
            "language": str,
            "description": str,
            "word_count": int,
            "content_hash": str,
            "fetched_url": str,
            "fetched_at": str,
            "updated_at": str,
            "crawl_id": int,
            "story_id": int,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id"), ("story_id", "stories", "id")],
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["content_hash"])
    db.table("articles").create_index(["fetched_url"])
    db.table("articles").create_index(["site", "published"])
    db.table("articles").create_index(["story_id"])
    db.table("articles").enable_fts(["title", "text"], create_triggers=True, tokenize="porter")
    # Keep FTS5 merges small and frequent: adding a row stays flat as the
    # corpus grows (PERF-NOTES: 1.17x from 1k to 100k rows).
    db.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES('automerge', 16)")
    db.table("duplicates").create(
        {
            "id": int,
            "url": str,
            "fetched_url": str,
            "article_id": int,
            "kind": str,
            "similarity": float,
            "site": str,
            "crawl_id": int,
            "seen_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("crawl_id", "crawls", "id")],
    )
    db.table("duplicates").create_index(["url"], unique=True)
    db.table("duplicates").create_index(["article_id"])
    db.table("failures").create(
        {
            "id": int,
            "url": str,
            "stage": str,
            "reason": str,
            "http_status": int,
            "crawl_id": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[("crawl_id", "crawls", "id")],
    )
    db.table("failures").create_index(["url"])
    db.table("failures").create_index(["crawl_id"])


@migrations()
def m002_one_failure_row_per_url(db: Database) -> None:
    """A URL has one ``failures`` row: its latest attempt, with a count."""
    db.table("failures").add_column("attempts", int)
    db.table("failures").add_column("first_at", str)
    db.execute("UPDATE failures SET attempts = 1, first_at = at")
    db.execute("DELETE FROM failures WHERE id NOT IN (SELECT max(id) FROM failures GROUP BY url)")
    db.execute("DROP INDEX IF EXISTS idx_failures_url")
    db.table("failures").create_index(["url"], unique=True)


@migrations()
def m003_pages_and_site_profiles(db: Database) -> None:
    """Raw pages (for ``scrapy reclean``) and the chrome learnt per site."""
    db.table("pages").create(
        {
            "url": str,
            "fetched_url": str,
            "content_type": str,
            "declared_encoding": str,
            "body": bytes,
            "fetched_at": str,
        },
        pk="url",
    )
    db.table("site_profiles").create(
        {"host": str, "pages": int, "lines": str, "updated_at": str},
        pk="host",
    )


@migrations()
def m004_stories_and_near_duplicates(db: Database) -> None:
    """Near-duplicate fingerprints, the story index and the story view's sentences."""
    create_tables(db)


@migrations()
def m005_validators_and_versions(db: Database) -> None:
    """Validators for conditional re-fetches, and the texts an update replaced."""
    db.table("articles").add_column("etag", str)
    db.table("articles").add_column("last_modified", str)
    db.table("articles").add_column("published_guessed", int)
    db.table("versions").create(
        {
            "id": int,
            "article_id": int,
            "title": str,
            "text": str,
            "content_hash": str,
            "fetched_at": str,
            "replaced_at": str,
            "crawl_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("versions").create_index(["article_id"])


@migrations()
def m006_rolling_shingle_hashes(db: Database) -> None:
    """Near-duplicate fingerprints in the faster rolling shingle hash
    (:func:`crawler.dedup.near.shingles`): recomputed for every stored article."""
    from crawler.dedup import near as neardup

    db.execute("DELETE FROM neardup_fingerprints")
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, text FROM articles WHERE id > ? ORDER BY id LIMIT 500", [last]
        ).fetchall()
        if not rows:
            break
        batch: list[tuple[int, int]] = []
        sizes: list[tuple[int, int, int]] = []
        for aid, text in rows:
            sk = neardup.sketch(text or "")
            batch.extend((fp, aid) for fp in sk.fingerprints)
            sizes.append((sk.size, len(sk.fingerprints), aid))
        db.conn.executemany(
            "INSERT OR IGNORE INTO neardup_fingerprints (hash, article_id) VALUES (?, ?)", batch
        )
        db.conn.executemany(
            "UPDATE article_features SET shingles = ?, fingerprints = ? WHERE article_id = ?", sizes
        )
        last = rows[-1][0]


@migrations()
def m007_staged_postings(db: Database) -> None:
    """Staged parts of the posting tables (``neardup_fingerprints_new``,
    ``story_terms_new``): new postings are folded into the large tables in key
    order (:meth:`crawler.storage.postings.Postings.fold`)."""
    create_staged_tables(db)


@migrations()
def m008_versions_url(db: Database) -> None:
    """The URL an earlier text was fetched from (``versions.url``): when an
    article becomes a duplicate of an earlier copy, its versions move to the
    kept article and keep saying whose texts they were."""
    db.table("versions").add_column("url", str)
    db.execute("UPDATE versions SET url = (SELECT url FROM articles a WHERE a.id = article_id)")


@migrations()
def m009_warc_files(db: Database) -> None:
    """How far each WARC file has been read (:mod:`crawler.storage.archives`)."""
    from crawler.storage.archives import create_table

    create_table(db)


@migrations()
def m010_story_pages_index(db: Database) -> None:
    """Indexes covering what the story pages (crawler.browse) read of the
    articles, so that they never read an article's text to find it: a
    story's articles with their publication times and outlets, and an
    article's story (the stories list's search goes from matching articles
    to their stories)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_articles_story_id_published_site"
        " ON articles (story_id, published, site)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_id_story_id ON articles (id, story_id)")


@migrations()
def m011_writer_fingerprints_index(db: Database) -> None:
    """The smallest fingerprint count of a stored article that can be a near
    copy (20 shingles or more: :data:`crawler.dedup.near.MIN_SHINGLES`), one
    index seek: the near-duplicate lookup drops the articles that share too few
    fingerprints with a new text before it joins them
    (:mod:`crawler.storage.nearindex`). A change of MIN_SHINGLES needs a new
    index (``tests/test_neardup.py`` checks the lookup uses this one)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_article_features_fingerprints"
        " ON article_features (fingerprints) WHERE shingles >= 20"
    )


def create_tables(db: Database) -> None:
    db.execute(
        "CREATE TABLE neardup_fingerprints (hash INTEGER NOT NULL, article_id INTEGER NOT NULL,"
        " PRIMARY KEY (hash, article_id)) WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE story_terms (term INTEGER NOT NULL, article_id INTEGER NOT NULL,"
        " PRIMARY KEY (term, article_id)) WITHOUT ROWID"
    )
    db.table("article_features").create(
        {
            "article_id": int,
            "day": int,
            "shingles": int,
            "fingerprints": int,
            "keys": str,
            "terms": str,
        },
        pk="article_id",
    )
    db.table("corpus_state").create({"name": str, "docs": int, "blob": bytes}, pk="name")
    db.table("story_sentences").create(
        {
            "id": int,
            "story_id": int,
            "article_id": int,
            "site": str,
            "position": int,
            "sentence": str,
            "key": str,
            "outlets": int,
        },
        pk="id",
        foreign_keys=[("story_id", "stories", "id"), ("article_id", "articles", "id")],
    )
    db.table("story_sentences").create_index(["story_id", "key"])
    db.table("story_sentences").create_index(["article_id", "position"])


def create_staged_tables(db: Database) -> None:
    """The staged parts of the posting tables: new postings land here (a small
    table, its pages in the cache) and move to the large table in key order
    (:meth:`crawler.storage.postings.Postings.fold`), so that a write touches a
    few pages of the large index instead of one per posting once it outgrows
    the cache."""
    for table, key in POSTINGS:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {table}_new ({key} INTEGER NOT NULL,"
            f" article_id INTEGER NOT NULL, PRIMARY KEY ({key}, article_id)) WITHOUT ROWID"
        )
