"""HTML extraction: page metadata, DOM pruning, split bodies, site rules, and
a quality floor on the shared real-page benchmark."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.extract.maintext import (
    Extracted,
    byline_author,
    extract_html,
    merge_split_bodies,
    page_metadata,
    parse_html,
    prune_chrome,
)
from crawler.extract.site_rules import apply_site_rules, rules_for
from tests.helpers import SHARED

ROOT = Path(__file__).resolve().parent.parent
BENCH_DEV = SHARED / "bench" / "extraction" / "dev"

#: F1 of crawler.extract.processing:extract_text on all of BENCH_DEV when this floor was
#: recorded was 0.975 (trafilatura default: 0.951). The floor sits a little below
#: so that noise-free refactors pass and real regressions fail.
F1_FLOOR = 0.970

PARA = (
    "The harbour authority said on Monday that the new ferry terminal will open in "
    "March, two years later than planned, after a dispute with the builder was settled."
)
PARA2 = (
    "Passenger numbers have doubled since the old terminal was built, and the queues "
    "in summer often reach the main road, according to the authority's annual report."
)
PARA3 = (
    "The builder said the delay was caused by changes to the design requested by the "
    "city, and that the final cost will stay within the budget agreed last year."
)


def _doc(head: str, body: str) -> str:
    return f"<!DOCTYPE html><html lang='en-GB'><head>{head}</head><body>{body}</body></html>"


# --- metadata -------------------------------------------------------------------------


def test_metadata_from_meta_tags():
    head = (
        "<title>Ferry terminal delayed | Harbour Gazette</title>"
        "<meta property='og:site_name' content='Harbour Gazette'>"
        "<meta property='og:title' content='Ferry terminal delayed to March | Harbour Gazette'>"
        "<meta name='author' content='By Ana Costa'>"
        "<meta property='article:published_time' content='2024-03-05T08:30:00+00:00'>"
        "<meta name='description' content='A dispute with the builder is settled.'>"
        "<meta property='og:type' content='article'>"
        "<link rel='canonical' href='https://gazette.example/ferry-terminal'>"
    )
    meta = page_metadata(parse_html(_doc(head, f"<p>{PARA}</p>")))
    assert meta.title == "Ferry terminal delayed to March"
    assert meta.site == "Harbour Gazette"
    assert meta.author == "Ana Costa"
    assert meta.published == "2024-03-05T08:30:00+00:00"
    assert meta.description == "A dispute with the builder is settled."
    assert meta.canonical_url == "https://gazette.example/ferry-terminal"
    assert meta.language == "en"
    assert meta.page_type == "article"


def test_metadata_from_json_ld_graph_wins_over_meta():
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Ignored"},
            {
                "@type": ["NewsArticle"],
                "headline": "Terminal opening moved",
                "author": [
                    {"@type": "Person", "name": "Ana Costa"},
                    {"@type": "Person", "name": "Li Wei"},
                ],
                "datePublished": "2024-03-05T09:00:00Z",
                "publisher": {"@type": "Organization", "name": "Harbour Gazette"},
            },
        ],
    }
    head = (
        f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
        "<meta property='og:title' content='Other title'>"
        "<meta name='author' content='Someone Else'>"
    )
    meta = page_metadata(parse_html(_doc(head, f"<p>{PARA}</p>")))
    assert meta.title == "Terminal opening moved"
    assert meta.author == "Ana Costa, Li Wei"
    assert meta.published == "2024-03-05T09:00:00Z"
    assert meta.site == "Harbour Gazette"
    assert meta.page_type == "article"


def test_broken_json_ld_is_ignored():
    head = (
        "<script type='application/ld+json'>{not json</script>"
        "<meta property='og:title' content='Fallback title'>"
    )
    meta = page_metadata(parse_html(_doc(head, f"<p>{PARA}</p>")))
    assert meta.title == "Fallback title"


def test_extract_html_returns_text_and_metadata():
    head = "<meta property='og:title' content='Ferry terminal delayed'>"
    body = (
        f"<article><h1>Ferry terminal delayed</h1><p>{PARA}</p><p>{PARA2}</p>"
        f"<p>{PARA3}</p></article>"
    )
    ext = extract_html(_doc(head, body), "https://gazette.example/a")
    assert isinstance(ext, Extracted)
    assert PARA in ext.text and PARA3 in ext.text
    assert ext.title == "Ferry terminal delayed"


# --- DOM pruning and split bodies -------------------------------------------------------


def test_prune_chrome_removes_named_chrome_and_keeps_the_article():
    body = (
        "<div class='article-body url-breadcrumb'>"  # a misleading token on the main box
        f"<p>{PARA}</p><p>{PARA2}</p>"
        "<div class='share-tools'><a>Facebook</a><a>Twitter</a></div>"
        "<aside class='relatedPosts'><p>Other story that should not appear in the text.</p></aside>"
        f"<p>{PARA3}</p></div>"
        "<div id='newsletter-signup'><p>Get our newsletter every morning.</p></div>"
    )
    tree = parse_html(_doc("", body))
    assert prune_chrome(tree) >= 3
    text = " ".join(tree.find("body").itertext())
    assert PARA in text and PARA3 in text
    assert "Facebook" not in text and "Other story" not in text and "newsletter" not in text


def test_prune_chrome_keeps_sentence_around_hover_card():
    body = (
        f"<p>{PARA}</p><p>The mayor, <span class='person'><a>Ana Costa</a>"
        "<span class='rollover-card'><a>Costa opens bridge</a><a>Costa on taxes</a></span>"
        f"</span>, welcomed the news.</p><p>{PARA2}</p><p>{PARA3}</p>"
    )
    tree = parse_html(_doc("", body))
    prune_chrome(tree)
    text = " ".join("".join(tree.find("body").itertext()).split())
    assert "The mayor, Ana Costa, welcomed the news." in text
    assert "Costa opens bridge" not in text


@pytest.mark.parametrize(
    "attrs",
    [
        "class='article__disclaimer'",
        "class='op-ed-disclaimer-note'",
        "class='author-bio'",
        "id='authorBio'",
        "class='box also-read'",
        "class='lire-aussi'",
        "class='leggi-anche'",
        "class='noticias-relacionadas'",
        "class='articoli-correlati'",
        "class='gerelateerd'",
    ],
)
def test_prune_chrome_removes_editorial_boxes_by_name(attrs):
    body = (
        f"<article><p>{PARA}</p><p>{PARA2}</p>"
        f"<p {attrs}>Box text that is not part of the article.</p><p>{PARA3}</p></article>"
    )
    tree = parse_html(_doc("", body))
    assert prune_chrome(tree) == 1
    text = " ".join(tree.find("body").itertext())
    assert PARA3 in text and "Box text" not in text


@pytest.mark.parametrize(
    "attrs", ["class='biography'", "class='symbiosis'", "class='readaloud'", "class='story-body'"]
)
def test_prune_chrome_keeps_lookalike_names(attrs):
    body = f"<article><div {attrs}><p>{PARA}</p></div><p>{PARA2}</p><p>{PARA3}</p></article>"
    tree = parse_html(_doc("", body))
    assert prune_chrome(tree) == 0


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("<div class='meta'>By <a href='/staff/jo-lind'>Jo Lind</a></div>", "Jo Lind"),
        ("<span>Von Anna-Lena Maier</span>", "Anna-Lena Maier"),
        ("<p class='firma'>Por María José de la Fuente</p>", "María José de la Fuente"),
        ("<a rel='author' href='/x'>Pierre Dubois</a>", "Pierre Dubois"),
        ("<a href='/author/tom-reyes'>Tom Reyes</a>", "Tom Reyes"),
    ],
)
def test_byline_author_from_visible_byline(byline, name):
    tree = parse_html(
        _doc("", f"<article><h1>Ferry terminal delayed</h1>{byline}<p>{PARA}</p></article>")
    )
    assert byline_author(tree) == name


@pytest.mark.parametrize(
    "html",
    [
        "<nav><a href='/news'>Local News</a><a href='/sport'>Sport</a></nav>",
        "<div>By the harbour</div>",  # a phrase, not a name
        "<div>By car and train</div>",
        "<a href='/author/desk'>Newsdesk</a>",  # one word
    ],
)
def test_byline_author_ignores_non_names(html):
    tree = parse_html(_doc("", f"<article>{html}<p>{PARA}</p></article>"))
    assert byline_author(tree) is None


def test_extract_html_reads_byline_when_markup_names_no_author():
    head = (
        "<meta property='og:title' content='Ferry terminal delayed'>"
        "<meta property='article:published_time' content='2024-03-01T10:00:00Z'>"
    )
    body = (
        f"<article><h1>Ferry terminal delayed</h1><div class='x-au'>By Ines Calder</div>"
        f"<p>{PARA}</p><p>{PARA2}</p><p>{PARA3}</p></article>"
    )
    assert extract_html(_doc(head, body)).author == "Ines Calder"


def test_merge_split_bodies_joins_blocks_cut_by_an_ad():
    body = (
        f"<div class='story-body'><p>{PARA}</p></div>"
        "<div class='ad-slot'><span>Advertisement</span></div>"
        f"<div class='story-body'><p>{PARA2}</p><p>{PARA3}</p></div>"
    )
    tree = parse_html(_doc("", body))
    assert merge_split_bodies(tree) == 1
    blocks = tree.xpath("//div[@class='story-body']")
    assert len(blocks) == 1 and len(blocks[0].findall("p")) == 3


def test_merge_split_bodies_leaves_card_lists_alone():
    cards = "".join(f"<div class='post-teaser'><p>Short teaser {i}.</p></div>" for i in range(5))
    tree = parse_html(_doc("", f"<div class='post-content'><p>{PARA}</p></div>{cards}"))
    assert merge_split_bodies(tree) == 0


def test_ad_split_article_is_extracted_whole():
    body = (
        "<main><h1>Ferry terminal delayed</h1>"
        f"<div class='article__body'><p>{PARA}</p></div>"
        "<div class='ad ad--mid'><span class='ad-label'>Advertisement</span></div>"
        f"<div class='article__body'><p>{PARA2}</p><p>{PARA3}</p></div></main>"
        "<footer><p>Contact us</p></footer>"
    )
    html = _doc("<title>Ferry terminal delayed</title>", body)
    ext = extract_html(html, "https://gazette.example/b")
    assert PARA in ext.text and PARA2 in ext.text and PARA3 in ext.text
    assert "Advertisement" not in ext.text


# --- site rules ---------------------------------------------------------------------


def test_rules_for_matches_host_and_parent_domain():
    rules = {"example.com": {"prune": [".a"]}, "news.example.com": {"prune": [".b"]}}
    assert rules_for("https://www.example.com/x", rules) == {"prune": [".a"]}
    assert rules_for("https://news.example.com/x", rules) == {"prune": [".b"]}
    assert rules_for("https://other.org/x", rules) is None
    assert rules_for(None, rules) is None


def test_apply_site_rules_prune_and_body():
    body = (
        f"<div class='top'><p>Site wide banner text that is long enough.</p></div>"
        f"<div class='story'><p>{PARA}</p><div class='inline-box'>Box text</div>"
        f"<p>{PARA2}</p></div><div class='story'><p>{PARA3}</p></div>"
    )
    rules = {
        "gazette.example": {"prune": [".inline-box", "//div[@class='top']"], "body": "div.story"}
    }
    tree = parse_html(_doc("", body))
    done = apply_site_rules(tree, "https://gazette.example/c", rules)
    assert done == {"pruned": 2, "body": 2}
    text = " ".join(tree.find("body").itertext())
    assert "Box text" not in text and "banner" not in text
    assert PARA in text and PARA3 in text


def test_apply_site_rules_ignores_bad_selectors_and_other_hosts():
    tree = parse_html(_doc("", f"<p>{PARA}</p>"))
    assert apply_site_rules(
        tree,
        "https://gazette.example/",
        {"gazette.example": {"prune": ["[[[", "//*[", ""], "body": "div.nothing"}},
    ) == {"pruned": 0, "body": 0}
    assert apply_site_rules(
        tree, "https://elsewhere.example/", {"gazette.example": {"prune": ["p"]}}
    ) == {"pruned": 0, "body": 0}
    assert PARA in " ".join(tree.find("body").itertext())


def test_extract_html_applies_site_rules():
    body = (
        f"<article><p>{PARA}</p><p class='house-note'>Our readers get a free mug when "
        f"they subscribe before Friday, the offer ends soon.</p><p>{PARA2}</p></article>"
    )
    html = _doc("<title>T</title>", body)
    assert "free mug" in extract_html(html, "https://gazette.example/d").text
    ext = extract_html(
        html,
        "https://gazette.example/d",
        site_rules={"gazette.example": {"prune": ["p.house-note"]}},
    )
    assert "free mug" not in ext.text and PARA2 in ext.text


# --- quality floor on real pages -------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def _shingles(tokens: list[str]) -> Counter:
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def _page_pr(truth: str, pred: str) -> tuple[float | None, float]:
    t, p = _shingles(_TOKEN.findall(truth)), _shingles(_TOKEN.findall(pred))
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else None  # empty output: no precision
    return precision, (tp / (tp + fn) if tp + fn else 0.0)


def test_quality_floor_on_shared_benchmark():
    truth_file = BENCH_DEV / "truth.jsonl"
    if not truth_file.is_file():
        pytest.fail(
            f"extraction benchmark not found at {BENCH_DEV}: the quality floor test "
            "needs ../shared/bench/extraction/dev beside the repository "
            "(or CORPUS_SHARED_DIR pointing at the shared folder)"
        )
    from crawler.extract.processing import extract_text

    ps, rs = [], []
    for line in truth_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        html = (BENCH_DEV / f"{rec['id']}.html").read_bytes()
        p, r = _page_pr(rec["text"], extract_text(html, rec.get("url")))
        if p is not None:
            ps.append(p)
        rs.append(r)
    assert len(rs) >= 50, f"only {len(rs)} pages in {BENCH_DEV}"
    precision, recall = sum(ps) / len(ps), sum(rs) / len(rs)
    f1 = 2 * precision * recall / (precision + recall)
    print(
        f"extract_text on {len(rs)} pages: F1 {f1:.4f} P {precision:.4f} R {recall:.4f}",
        file=sys.stderr,
    )
    assert f1 >= F1_FLOOR, f"F1 {f1:.4f} fell below the recorded floor {F1_FLOOR}"


def _calls_to_trafilatura(monkeypatch):
    """Record the ``fast`` flag of every trafilatura.bare_extraction call (the
    real function still runs)."""
    import trafilatura

    from crawler.extract import maintext as extraction

    calls = []
    real = trafilatura.bare_extraction

    def spy(*args, **kwargs):
        calls.append(kwargs.get("fast"))
        return real(*args, **kwargs)

    monkeypatch.setattr(extraction.trafilatura, "bare_extraction", spy)
    return calls


def test_fast_path_is_enough_for_a_page_with_plenty_of_text(monkeypatch):
    calls = _calls_to_trafilatura(monkeypatch)
    paragraphs = "".join(
        f"<p>Paragraph {i} of the report says the harbour works will take another "
        f"{i + 2} months, and the council expects the costs to rise again next spring.</p>"
        for i in range(12)
    )
    html = (
        f"<html><head><title>Harbour works delayed</title></head><body><nav><a href='/'>"
        f"Home</a></nav><article><h1>Harbour works delayed</h1>{paragraphs}</article>"
        f"</body></html>"
    )
    ext = extract_html(html, "https://news.test/harbour")
    assert calls == [True]
    assert "Paragraph 11 of the report" in ext.text


def test_full_cascade_runs_when_the_fast_path_finds_little_text(monkeypatch):
    calls = _calls_to_trafilatura(monkeypatch)
    html = (
        "<html><head><title>Short note</title></head><body><article><h1>Short note</h1>"
        "<p>The library opens an hour later on Monday because of staff training.</p>"
        "</article></body></html>"
    )
    ext = extract_html(html, "https://news.test/note")
    assert calls == [True, False]
    assert "library opens an hour later" in ext.text


@pytest.mark.parametrize(
    "wrapper",
    [
        '<footer class="site-footer">{p}</footer>',
        '<div role="contentinfo">{p}</div>',
        "<aside>{p}</aside>",
    ],
)
def test_rescue_never_takes_a_paragraph_from_page_chrome(wrapper):
    from crawler.extract.maintext import rescue_paragraphs

    body = "".join(
        f"<p>Sentence {i} of the council story explains the harbour plan in plain words.</p>"
        for i in range(3)
    )
    footer = wrapper.format(p="<p>Harbour Gazette, 12 Quay Street. All rights reserved.</p>")
    html = f"<html><body><main><article>{body}</article></main>{footer}</body></html>"
    tree = parse_html(html)
    text = "\n".join(
        f"Sentence {i} of the council story explains the harbour plan in plain words."
        for i in range(3)
    )
    assert rescue_paragraphs(tree, text) == text
    # the same paragraph outside any chrome container is still rescued
    plain = parse_html(html.replace(footer, "<p>The council meets again on the first of June.</p>"))
    assert rescue_paragraphs(plain, text).endswith("The council meets again on the first of June.")
