"""Hostile values that broke the corpus (crawler/storage/*): a str holding a
lone surrogate made sqlite3 raise UnicodeEncodeError, not sqlite3.Error, and
the whole batch was lost (and, in a crawl, the crawl's end never recorded).

Through a crawl, crawler/pipelines/corpus.py replaces lone surrogates before
an item reaches the corpus (test_hostile_inputs_e2e.py); these tests are about
the corpus on its own, which every other writer of it (reclean, the scale-out
drain) relies on.
"""

from __future__ import annotations

from crawler.items import Failure
from crawler.storage.corpus import Corpus


def test_a_lone_surrogate_costs_neither_its_row_nor_the_batch(tmp_path):
    corpus = Corpus(tmp_path / "c.db", batch_size=10)
    corpus.start_crawl("urls", {})
    corpus.add_failure(Failure("https://a.test/fine", "download", "timed out", None))
    corpus.add_failure(Failure("https://a.test/\ud800", "parse", "a lone \udc00", None))
    corpus.finish_crawl("finished", {})
    rows = list(corpus.db.query("select url, reason from failures order by url"))
    assert [r["url"] for r in rows] == ["https://a.test/fine", "https://a.test/\ufffd"]
