from __future__ import annotations

from crawler.dedup.exact import content_hash
from crawler.items import Article, Failure
from crawler.storage.corpus import Corpus
from crawler.storage.incremental import last_success

TEXT = (
    "The river rose two metres overnight and the town council opened three shelters for families."
)


def make_corpus(path):
    corpus = Corpus(path)
    corpus.start_crawl("feeds", {"feeds": "https://a.test/rss"})
    corpus.add_article(
        Article(
            url="https://a.test/story",
            fetched_url="https://a.test/story?utm_source=x",
            title="t",
            text=TEXT,
            content_hash=content_hash(TEXT),
        )
    )
    corpus.add_article(
        Article(url="https://b.test/copy", title="t", text=TEXT, content_hash=content_hash(TEXT))
    )
    corpus.add_failure(
        Failure("https://a.test/gone", "download", "the server answered HTTP 410", 410)
    )
    corpus.add_failure(
        Failure("https://a.test/flaky", "download", "the server answered HTTP 503", 503)
    )
    corpus.add_failure(
        Failure("https://a.test/pdf", "parse", "binary content (a PDF document)", 200)
    )
    corpus.finish_crawl("finished", {})
    corpus.close()


def test_missing_corpus_knows_nothing(tmp_path):
    assert last_success(tmp_path / "none.db", "feeds", {}) is None


def test_last_success_per_source(tmp_path):
    make_corpus(tmp_path / "c.db")
    when = last_success(tmp_path / "c.db", "feeds", {"feeds": "https://a.test/rss"})
    assert when is not None and when.tzinfo is not None
    assert last_success(tmp_path / "c.db", "feeds", {"feeds": "https://other.test/rss"}) is None
    # A crawl that did not finish normally does not count.
    corpus = Corpus(tmp_path / "c.db")
    corpus.start_crawl("sitemaps", {"sitemaps": "https://a.test/sitemap.xml"})
    corpus.finish_crawl("shutdown", {})
    corpus.close()
    assert (
        last_success(tmp_path / "c.db", "sitemaps", {"sitemaps": "https://a.test/sitemap.xml"})
        is None
    )
