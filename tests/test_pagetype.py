"""crawler.extract.pagetype: articles versus section, tag and index pages; links."""

from __future__ import annotations

import pytest

from crawler.extract.pagetype import analyse, same_site, url_score
from tests.webserver import SITE

BASE = "http://news.example"

PAGES = [
    (
        "2024/05/14/harbour-flood-defences-approved.html",
        "/2024/05/14/harbour-flood-defences-approved.html",
        True,
    ),
    (
        "2024/05/13/council-budget-vote-delayed.html",
        "/2024/05/13/council-budget-vote-delayed.html",
        True,
    ),
    (
        "world/rail-strike-talks-resume-after-weekend.html",
        "/world/rail-strike-talks-resume-after-weekend",
        True,
    ),
    (
        "2024/05/12/museum-reopens-after-renovation.html",
        "/2024/05/12/museum-reopens-after-renovation.html",
        True,
    ),
    ("index.html", "/", False),
    ("world/index.html", "/world/", False),
    ("tag/climate/index.html", "/tag/climate/", False),
]


@pytest.mark.parametrize(("path", "url", "is_article"), PAGES, ids=[p[1] for p in PAGES])
def test_fixture_site_pages(path, url, is_article):
    html = (SITE / path).read_text(encoding="utf-8").replace("{{BASE}}", BASE)
    result = analyse(html, BASE + url)
    assert result.is_article is is_article, result.signals


def test_plain_article_without_markup_is_told_by_shape_and_density():
    html = (SITE / "world/rail-strike-talks-resume-after-weekend.html").read_text()
    result = analyse(html, f"{BASE}/world/rail-strike-talks-resume-after-weekend")
    assert not any(s.startswith(("og:", "json-ld")) for s in result.signals)
    assert "url:slug" in result.signals


def test_short_page_claiming_to_be_an_article_is_not_one():
    html = '<html><head><meta property="og:type" content="article"></head><body><p>Soon.</p></body></html>'
    assert not analyse(html, f"{BASE}/2024/05/14/coming-soon-a-new-story").is_article


def test_links_are_http_absolute_without_fragments_or_media():
    html = (SITE / "world/rail-strike-talks-resume-after-weekend.html").read_text()
    result = analyse(html, f"{BASE}/world/rail-strike-talks-resume-after-weekend")
    assert result.links == [f"{BASE}/", f"{BASE}/world/"]
    assert result.unsafe_links == 3  # file:, ftp:, data:


def test_base_href_and_fragments():
    html = (
        '<html><head><base href="https://cdn.example/x/"></head><body>'
        '<a href="a.html#top">a</a><a href="#top">top</a><a href="mailto:x@y">m</a>'
        '<a href="javascript:void(0)">j</a><a href=" /b ">b</a></body></html>'
    )
    assert analyse(html, BASE + "/").links == [
        "https://cdn.example/x/a.html",
        "https://cdn.example/b",
    ]


@pytest.mark.parametrize(
    ("url", "sign"),
    [
        ("https://n.example/", -1),
        ("https://n.example/tag/climate/", -1),
        ("https://n.example/world/?page=2", -1),
        ("https://n.example/world/", -1),
        ("https://n.example/2024/05/14/flood-defences.html", 1),
        ("https://n.example/politics/mayor-resigns-after-budget-row", 1),
        ("https://n.example/news/article-1234567", 1),
    ],
)
def test_url_shape(url, sign):
    score, _ = url_score(url)
    assert (score > 0) if sign > 0 else (score < 0)


def test_same_site():
    assert same_site("http://www.n.example/a", "http://n.example/")
    assert same_site("https://n.example/a", "http://n.example/")
    assert not same_site("http://n.example:8001/a", "http://n.example:8000/")
    assert not same_site("http://other.example/a", "http://n.example/")
    assert not same_site("http://n.example.evil.example/", "http://n.example/")


@pytest.mark.parametrize("kind", ["NewsArticle", "ScholarlyArticle", "BlogPosting"])
def test_page_type_and_metadata_share_one_set_of_article_types(kind):
    """One ARTICLE_TYPES set: a JSON-LD type the metadata reads as an article is
    an article signal for the page-type decision too."""
    from crawler.extract.maintext import parse_html
    from crawler.extract.metadata import ARTICLE_TYPES, page_metadata

    ld = f'{{"@context": "https://schema.org", "@type": "{kind}", "headline": "A study"}}'
    html = (
        f'<html><head><script type="application/ld+json">{ld}</script></head><body></body></html>'
    )
    assert kind.lower() in ARTICLE_TYPES
    assert page_metadata(parse_html(html)).title == "A study"
    assert f"json-ld:{kind.lower()}" in analyse(html, f"{BASE}/2024/05/14/a-study").signals
