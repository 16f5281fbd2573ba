"""The pure path from bytes to an article: process_page."""

from __future__ import annotations

from crawler.extract.processing import Options, parse_text_file, process_page
from crawler.items import Article, Failure, Page
from tests.helpers import SEEDS

SEED_000 = SEEDS / "000_105da86cbff68d84.txt"
SEED_004 = SEEDS / "004_34f1da6f3df793cf.txt"

PARA = (
    "The council voted on Tuesday to rebuild the old harbour wall, after a winter of storms "
    "left parts of the promenade closed to walkers and traders for almost three months."
)


def page(name: str, body: bytes, ctype: str | None = None) -> Page:
    return Page(url=f"file:///data/{name}", body=body, content_type=ctype)


def test_seed_with_a_headline_line():
    result = process_page(page(SEED_000.name, SEED_000.read_bytes()))
    assert isinstance(result, Article)
    assert result.title.startswith("US State Department Spokesman: Iran and Russia")
    lines = result.text.split("\n")
    assert lines[0].startswith("Ned Price, the spokesman for The United States State Department")
    assert lines[-1].startswith("That’s how the geopolitical arena will shape out")
    assert "Share:" not in result.text


def test_seed_that_opens_with_its_lead():
    result = process_page(page(SEED_004.name, SEED_004.read_bytes()))
    assert isinstance(result, Article)
    lines = result.text.split("\n")
    # The lead stays in the body; the title is derived from it.
    assert lines[0].startswith("US State Department Thursday voiced concern")
    assert result.title and lines[0].startswith(result.title.rstrip("…"))
    assert lines[-1].startswith("IAEA’s chief Rafael Grossi")
    for chrome in (
        "G4 Protest Special",
        "Talk Show",
        "Share your story",
        "Send your Videos and Photos to us",
    ):
        assert chrome not in result.text


def test_text_file_title_is_never_a_real_paragraph():
    ext = parse_text_file(f"{PARA}\n{PARA.replace('Tuesday', 'Friday')}")
    assert ext.title is None
    assert ext.text.startswith("The council voted on Tuesday")


def test_html_page_metadata_and_text():
    html = f"""<html lang="en-GB"><head><title>Harbour wall to be rebuilt | The Coast Herald</title>
    <meta property="og:site_name" content="The Coast Herald">
    <meta property="article:published_time" content="2024-02-03T08:30:00Z">
    <meta name="author" content="Mary Lane">
    <link rel="canonical" href="https://herald.test/news/harbour-wall"></head>
    <body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Harbour wall to be rebuilt</h1><p>{PARA}</p><p>{PARA.replace("Tuesday", "Friday")}</p>
    <p>Share:</p></article><footer>© 2024 The Coast Herald</footer></body></html>"""
    result = process_page(
        Page(
            "https://herald.test/news/harbour-wall?utm_source=x",
            html.encode(),
            "text/html; charset=utf-8",
        )
    )
    assert isinstance(result, Article)
    assert result.url == "https://herald.test/news/harbour-wall"
    assert result.title == "Harbour wall to be rebuilt"
    assert (result.author, result.site, result.language) == ("Mary Lane", "The Coast Herald", "en")
    assert result.published == "2024-02-03T08:30:00Z"
    assert result.canonical_url == "https://herald.test/news/harbour-wall"
    assert "Share:" not in result.text and "©" not in result.text
    assert result.word_count >= 50


def test_bad_inputs_are_failures_with_reasons():
    empty = process_page(page("empty.html", b""))
    assert isinstance(empty, Failure) and empty.stage == "parse" and "empty" in empty.reason
    nav_only = process_page(
        page("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    )
    assert isinstance(nav_only, Failure) and nav_only.stage in ("extract", "validate")
    short = process_page(page("short.txt", b"Just a line.\nAnd another one."))
    assert isinstance(short, Failure) and short.stage == "validate" and "words" in short.reason


def test_min_words_is_an_option():
    text = b"Short but real news: the bridge reopens on Monday morning."
    assert isinstance(process_page(page("a.txt", text), Options(min_words=5)), Article)
    assert isinstance(process_page(page("a.txt", text), Options(min_words=50)), Failure)


def test_article_url_prefers_a_same_site_canonical_link():
    from crawler.extract.processing import article_url

    assert (
        article_url("https://www.news.test/amp/story-1", "https://www.news.test/story-1")
        == "https://www.news.test/story-1"
    )
    assert (
        article_url("https://amp.news.test/story-1", "https://news.test/story-1")
        == "https://news.test/story-1"
    )
    assert (
        article_url("https://news.test/story-1?utm_source=x", "/story-1")
        == "https://news.test/story-1"
    )
    # Another site's URL is never taken over, nor a non-web scheme.
    assert (
        article_url("https://copycat.test/story", "https://news.test/story-1")
        == "https://copycat.test/story"
    )
    assert article_url("https://news.test/a", "file:///etc/passwd") == "https://news.test/a"
    assert article_url("file:///data/a.html", "https://news.test/a/") == "https://news.test/a"
    assert article_url("file:///data/a.html", "/a") == "file:///data/a.html"


def test_listing_hints_beat_guesses_but_not_the_page_markup():
    body = (
        f"<html><body><article><h1>Quay reopens</h1><p>{PARA}</p>"
        f"<p>{PARA.replace('Tuesday', 'Monday')}</p>"
        "<p><a href='/files/report-2024-05-10.pdf'>Report (2024-05-10)</a></p></article></body></html>"
    )
    hints = {
        "published": "2024-05-14T09:00:00Z",
        "site": "Harbour Herald",
        "language": "en",
        "title": "Quay reopens after storm repairs",
    }
    result = process_page(Page("https://herald.test/quay", body.encode(), "text/html", hints=hints))
    assert isinstance(result, Article)
    # No date, site or language in the markup: the feed's metadata wins over guesses.
    assert result.published == "2024-05-14T09:00:00Z"
    assert result.site == "Harbour Herald"
    marked = body.replace(
        "<html>",
        '<html lang="de"><head><meta property="og:site_name" '
        'content="Hafenbote"><meta property="article:published_time" '
        'content="2024-05-13T08:00:00Z"></head>',
    )
    result = process_page(
        Page("https://herald.test/quay", marked.encode(), "text/html", hints=hints)
    )
    assert (result.published, result.site, result.language) == (
        "2024-05-13T08:00:00Z",
        "Hafenbote",
        "de",
    )


def test_a_short_japanese_article_is_stored_with_a_word_count_of_its_language():
    """Three paragraphs of Japanese have no spaces: counted by whitespace they
    were 3 "words", under CLEAN_MIN_WORDS, and the article was a failure."""
    page = SEEDS.parent / "fixtures" / "pages" / "ja-ekimae-saikaihatsu.html"
    result = process_page(Page(url=page.resolve().as_uri(), body=page.read_bytes()))
    assert isinstance(result, Article), result
    assert len(result.text.split()) == 3
    assert 60 <= result.word_count <= 110
    assert result.language == "ja"


def test_chinese_text_file_word_count():
    text = (
        "市政府周二宣布，新的地铁线路将于明年年底通车，沿线将新建十二个车站。\n"
        "预计每天可运送乘客约三十万人次，可以缓解市中心的交通拥堵问题。\n"
    )
    result = process_page(Page(url="file:///tmp/zh-metro.txt", body=text.encode()))
    assert isinstance(result, Article), result
    assert 30 <= result.word_count <= 60
