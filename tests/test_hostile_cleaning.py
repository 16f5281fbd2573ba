"""Hostile pages that broke the cleaning (crawler/extract/*), found by
fuzzing process_page. Before their fixes, each page
was caught by the cleaning pool's last resort and ended as an ``extract``
failure "cleaning failed with an error: ..." (or, for the quadratic regex, a
worker busy for minutes to hours): the article was lost.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawler.extract.decoding import decode
from crawler.extract.processing import Options, process_page
from crawler.items import Article, Page
from tests.helpers import ROOT
from tests.hostile_server import article_html


@pytest.mark.parametrize("label", ["undefined", "punycode"])
def test_a_meta_charset_that_decodes_no_text_is_passed_over(label):
    body = article_html(3).replace(b"<meta charset='utf-8'>", f"<meta charset='{label}'>".encode())
    assert decode(body, is_html=True).text.startswith("<!doctype html>")


def test_a_declared_charset_that_decodes_no_text_is_passed_over():
    page = Page(
        url="https://n.example/a",
        body=article_html(3),
        content_type="text/html",
        declared_encoding="undefined",
    )
    assert isinstance(process_page(page, Options()), Article)


@pytest.mark.parametrize("href", ["http://[::1/broken", "//[::1", "http://[]/"])
def test_a_broken_canonical_link_does_not_cost_the_article(href):
    body = article_html(4).replace(
        b"<title>", f'<link rel="canonical" href="{href}"><title>'.encode()
    )
    page = Page(url="https://n.example/a", body=body, content_type="text/html")
    result = process_page(page, Options())
    assert isinstance(result, Article) and result.url == "https://n.example/a"


#: patterns.URLISH (used by cleaning._features) holds ``\S+@\S+\.\w+``: on a long
#: run of non-blank characters it backtracks in O(n^2) (100 KB of "x": 15 s, 1 MB:
#: about 25 min), on a run of "a@a@..." worse. \S{1,64}@\S{1,255} is not enough
#: (1 MB of "@": 145 s); [^\s@]{1,64}@[^\s@]{1,255}\.\w+ reads 1 MB of any of
#: them in under a second.
_QUADRATIC = (
    "from crawler.extract.cleaning import clean_text\n"
    "for line in ('x' * 300_000, 'a@' * 50_000, '@' * 100_000):\n"
    "    text = 'A headline\\n\\n' + line + '\\n\\n' + 'A sentence of the story. ' * 30\n"
    "    clean_text(text, title='A headline')\n"
)


def test_a_long_token_is_cleaned_in_linear_time():
    subprocess.run([sys.executable, "-c", _QUADRATIC], cwd=ROOT, check=True, timeout=10)
