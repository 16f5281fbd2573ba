"""crawler.core: the writer thread and the read-only corpus view spiders get (no Scrapy)."""

from __future__ import annotations

import json
import threading

import sqlite_utils

from crawler.core.view import NoCorpus
from crawler.core.writer import CorpusWriter
from crawler.dedup.exact import content_hash
from crawler.items import Article, Failure

TEXT = (
    "The reservoirs of the region stand at their lowest level in forty years after a dry "
    "winter, and the water board asks households to save water until the autumn rains. "
) * 4


def article(url: str, text: str = TEXT, **kw) -> Article:
    return Article(
        url=url,
        title="Reservoirs at a forty-year low",
        text=text,
        content_hash=content_hash(text),
        word_count=len(text.split()),
        **kw,
    )


class Stats(dict):
    def get_value(self, key, default=None):
        return self.get(key, default)

    def set_value(self, key, value):
        self[key] = value

    def get_stats(self):
        return dict(self)


async def test_the_view_sees_what_the_writer_thread_holds_and_wrote(tmp_path):
    writer = CorpusWriter(str(tmp_path / "c.db"), batch_size=50, thread=True)
    crawl_id = writer.open("urls", {"urls": "x"})
    view = writer.view()
    assert view.available and view.reason == ""
    url = "https://news.test/reservoirs"
    outcome = await writer.store(article(url, etag='"v1"', last_modified="Tue, 02 Apr 2024"))
    assert outcome is not None and outcome.status == "stored"
    await writer.store(Failure("https://news.test/gone", "download", "HTTP 404", 404))
    # not written yet (batch of 50): the view sees the pending rows
    assert view.is_known_url(url) and view.is_known_url("https://news.test/gone")
    assert not view.is_known_url("https://news.test/other")
    writer.flush()
    assert view.validators(url) == ('"v1"', "Tue, 02 Apr 2024")
    assert view.validators("https://news.test/other") == (None, None)
    stored = view.article(1)
    assert stored is not None and stored.url == url and stored.text == TEXT
    assert view.article(99) is None
    stats = view.term_stats()
    assert stats is not None and stats.docs == 1
    # the writer ran on its own thread, and records the end of the crawl there
    names: list[str] = []
    writer._call(lambda: names.append(threading.current_thread().name))
    assert names[0].startswith("corpus-writer")
    writer.finish("finished", Stats(seen=1), learn_profiles=False)
    assert writer.corpus is None
    row = sqlite_utils.Database(tmp_path / "c.db")["crawls"].get(crawl_id)
    assert row["finish_reason"] == "finished" and json.loads(row["stats"]) == {"seen": 1}


def test_no_corpus_answers_nothing_and_says_why():
    view = NoCorpus("a scale-out worker has no corpus")
    assert not view.available and view.reason == "a scale-out worker has no corpus"
    assert view.is_known_url("https://news.test/x") is False
    assert view.validators("https://news.test/x") == (None, None)
    assert view.article(1) is None and view.term_stats() is None
