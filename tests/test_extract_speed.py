"""The cleaning's shortcuts leave its output as it was: one parsed tree for every
trafilatura reading, justext's stoplist hashed once, the cleaning workers' preload."""

from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from crawler.extract import maintext
from crawler.extract.decoding import decode

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def _fixture_htmls() -> list[tuple[str, str]]:
    out = []
    for path in sorted(PAGES.iterdir()):
        if path.suffix in (".html", ".htm") or path.name.endswith(".html.gz"):
            body = path.read_bytes()
            if path.name.endswith(".gz"):
                body = gzip.decompress(body)
            out.append((path.name, decode(body, is_html=True).text))
    assert len(out) >= 20
    return out


@pytest.mark.skipif(not maintext.TREE_KEPT, reason="this trafilatura changes the trees it reads")
def test_trafilatura_leaves_the_tree_it_reads_as_it_was() -> None:
    for name, html in _fixture_htmls():
        tree = maintext._fresh(html, "https://news.example/a", None)
        before = etree.tostring(tree)
        for fast, precision in ((True, True), (False, True), (False, False)):
            maintext._trafilatura(tree, "https://news.example/a", fast=fast, precision=precision)
            assert etree.tostring(tree) == before, (name, fast, precision)


def test_one_tree_for_every_reading_gives_the_text_fresh_trees_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every reading of the cascade, whatever the page gives: the fallback and the
    # balanced reading run on every page
    monkeypatch.setattr(maintext, "FALLBACK_MIN_CHARS", 10**9)
    monkeypatch.setattr(maintext, "FALLBACK_SHARE", 10**9)
    for name, html in _fixture_htmls():
        kept = maintext.extract_html(html, "https://news.example/a")
        monkeypatch.setattr(maintext, "TREE_KEPT", False)
        fresh = maintext.extract_html(html, "https://news.example/a")
        monkeypatch.setattr(maintext, "TREE_KEPT", True)
        assert kept == fresh, name


def test_justext_gets_every_stoplist_word_and_hashes_it_at_once() -> None:
    from justext.core import define_stoplist
    from justext.utils import get_stoplist, get_stoplists
    from trafilatura import external

    stoplist = external.JT_STOPLIST
    assert stoplist is not None and not isinstance(stoplist, tuple)
    words = {w for language in get_stoplists() for w in get_stoplist(language)}
    assert len(words) > 100_000
    assert define_stoplist(stoplist) == frozenset(w.lower() for w in words)
    t0 = time.perf_counter()
    for _ in range(1000):
        define_stoplist(stoplist)
    # the tuple took about 7 ms a call to hash: 1,000 calls would take 7 s
    assert time.perf_counter() - t0 < 0.5


def test_justext_fallback_text_is_the_one_of_the_tuple(monkeypatch: pytest.MonkeyPatch) -> None:
    from trafilatura import external

    html = "".join(
        f"<div class='x'><span>Paragraph {i} says that the river was high and the town "
        "was under water for a week after the rain, and the mayor said that help came late"
        " for the people who lived near it.</span></div>"
        for i in range(6)
    )
    page = f"<html><body><table><tr><td>{html}</td></tr></table></body></html>"
    tree = maintext.parse_html(page)
    ours = external.justext_rescue(tree, _options())
    monkeypatch.setattr(external, "JT_STOPLIST", None)  # trafilatura's own tuple
    theirs = external.justext_rescue(maintext.parse_html(page), _options())
    assert isinstance(external.JT_STOPLIST, tuple)
    assert ours[1] == theirs[1] and "river was high" in ours[1]


def _options() -> Any:
    from trafilatura.settings import Extractor

    return Extractor(precision=True, comments=False)
