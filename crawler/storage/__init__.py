"""Storage: the SQLite corpus, its one writer and its readers.

Owns the schema and migrations (``schema``), connections (``db``), the writer
(``corpus.Corpus``, a facade over ``pending``: the rows waiting for a write,
and ``writer``: the transaction that writes them), the near-duplicate index
(``nearindex``), the story index (``storyindex``) and their postings
(``postings``), site profiles learnt during a crawl (``profiles``), the
end-of-crawl settling of duplicate groups and stories (``settle``, ``variants``),
the WARC files' progress (``archives``), reclean, the export (``export``),
incremental lookups and the health checks of ``scrapy corpus check``. No Scrapy,
no Twisted. May import every pure package (extract, dedup, stories, features,
items, urls).
"""
