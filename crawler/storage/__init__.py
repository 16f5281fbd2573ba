"""Storage: the SQLite corpus, its one writer and its readers.

Owns the schema and migrations, the batch writer (:class:`~crawler.storage.corpus.Corpus`),
the near-duplicate and story postings, reclean, incremental lookups (what is known) and the
health checks of ``scrapy corpus check``. No Scrapy, no Twisted. May import every pure
package (extract, dedup, stories, features, items, urls).
"""
