import pytest

from crawler.urls import canonical_url, host_of, is_web_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/news/story", "https://example.com/news/story"),
        ("HTTPS://Example.COM/news/story", "https://example.com/news/story"),
        ("https://example.com:443/news/story", "https://example.com/news/story"),
        ("http://example.com:80/news/story", "http://example.com/news/story"),
        ("https://example.com/news/story/", "https://example.com/news/story"),
        ("https://example.com/news/story#comments", "https://example.com/news/story"),
        (
            "https://example.com/news/story?utm_source=tw&utm_medium=social",
            "https://example.com/news/story",
        ),
        ("https://example.com/news/story?fbclid=abc&gclid=def", "https://example.com/news/story"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/article?id=5&utm_campaign=x", "https://example.com/article?id=5"),
        ("https://example.com/", "https://example.com/"),
        ("file:///tmp/a.txt#x", "file:///tmp/a.txt"),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_keeps_path_case():
    # Paths are case-sensitive on most servers: only scheme and host fold.
    assert canonical_url("https://EXAMPLE.com/News/Story") == "https://example.com/News/Story"


def test_variants_collapse_to_one():
    variants = [
        "https://example.com/world/flood-warning",
        "https://EXAMPLE.COM/world/flood-warning/",
        "https://example.com:443/world/flood-warning?utm_source=newsletter#top",
    ]
    assert len({canonical_url(u) for u in variants}) == 1


def test_helpers():
    assert is_web_url("https://x.test/a")
    assert not is_web_url("file:///etc/passwd")
    assert host_of("https://News.Example.com/a") == "news.example.com"
