"""Hostile pages that break the cleaning (crawler/extract/*, the workers
helper's files), found by fuzzing process_page: each test is
``xfail(strict=True)`` until its fix lands, and then must pass.

Through a crawl, each page is caught by the cleaning pool's last resort and
ends as an ``extract`` failure "cleaning failed with an error: ..." (or, for
the quadratic regex, a worker busy for minutes to hours): the article is lost.
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


@pytest.mark.xfail(
    strict=True,
    raises=UnicodeError,
    reason="decoding.decode catches UnicodeDecodeError only: a charset Python knows "
    "but cannot decode with (undefined, punycode) raises UnicodeError; catch "
    "(UnicodeError, LookupError) in the loop over the candidates",
)
@pytest.mark.parametrize("label", ["undefined", "punycode"])
def test_a_meta_charset_that_decodes_no_text_is_passed_over(label):
    body = article_html(3).replace(b"<meta charset='utf-8'>", f"<meta charset='{label}'>".encode())
    assert decode(body, is_html=True).text.startswith("<!doctype html>")


@pytest.mark.xfail(
    strict=True,
    raises=UnicodeError,
    reason="as above, for the charset of a WARC record's HTTP header (the crawl's "
    "IntegrityMiddleware drops a web response's, not an archive's)",
)
def test_a_declared_charset_that_decodes_no_text_is_passed_over():
    page = Page(
        url="https://n.example/a",
        body=article_html(3),
        content_type="text/html",
        declared_encoding="undefined",
    )
    assert isinstance(process_page(page, Options()), Article)


@pytest.mark.xfail(
    strict=True,
    raises=ValueError,
    reason="processing.article_url: urljoin(fetched, declared) raises ValueError "
    "('Invalid IPv6 URL') for a canonical link Python's parser refuses; on "
    "ValueError keep the fetched URL (fetched_c)",
)
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


@pytest.mark.xfail(
    strict=True,
    raises=subprocess.TimeoutExpired,
    reason="patterns.URLISH (cleaning._features) \\S+@\\S+\\.\\w+ is quadratic on a long token (a minified "
    "script or base64 blob as page text, a text/plain body on one line): bound it, "
    "[^\\s@]{1,64}@[^\\s@]{1,255}\\.\\w+ (1 MB in under 1 s)",
)
def test_a_long_token_is_cleaned_in_linear_time():
    subprocess.run([sys.executable, "-c", _QUADRATIC], cwd=ROOT, check=True, timeout=10)
