"""crawler.netsafety: what the crawler may fetch."""

from __future__ import annotations

import pytest

from crawler.downloadermiddlewares.useragent import user_agent
from crawler.netsafety import address_refusal, is_followable


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://news.example/a", True),
        ("HTTP://news.example/a", True),
        ("file:///etc/passwd", False),
        ("ftp://news.example/pub", False),
        ("data:text/html,<p>x</p>", False),
        ("javascript:alert(1)", False),
        ("http:///no-host", False),
        ("//news.example/a", False),
        ("http://[::1", False),
    ],
)
def test_only_http_links_are_followable(url, ok):
    assert is_followable(url) is ok


@pytest.mark.parametrize(
    ("host", "addresses", "kind"),
    [
        ("127.0.0.1", ["127.0.0.1"], "loopback"),
        ("::1", ["::1"], "loopback"),
        ("localhost", ["127.0.0.1", "::1"], "loopback"),
        ("intranet", ["10.0.0.8"], "private"),
        ("router", ["192.168.1.1"], "private"),
        ("metadata", ["169.254.169.254"], "link-local"),
        ("v6", ["fe80::1"], "link-local"),
        ("mapped", ["::ffff:127.0.0.1"], "loopback"),
        ("zero", ["0.0.0.0"], "unspecified"),
        ("cgnat", ["100.64.0.1"], "non-public"),
        ("mixed", ["93.184.216.34", "10.0.0.1"], "private"),
    ],
)
def test_non_public_addresses_are_refused_with_how_to_allow(host, addresses, kind):
    reason = address_refusal(host, addresses)
    assert reason is not None and kind in reason
    assert "ALLOW_PRIVATE_NETWORKS=True" in reason


@pytest.mark.parametrize(
    "addresses", [["93.184.216.34"], ["2606:2800:220:1::"], ["8.8.8.8", "1.1.1.1"]]
)
def test_public_addresses_pass(addresses):
    assert address_refusal("news.example", addresses) is None


def test_user_agent_gets_contact_url():
    base = "newscorpus-crawler/0.1 (+https://github.com/newscorpus/crawler)"
    assert user_agent(base, "") == base
    assert user_agent(base, "https://me.example/crawler") == (
        "newscorpus-crawler/0.1 (+https://github.com/newscorpus/crawler; +https://me.example/crawler)"
    )
    assert user_agent("mybot/1", "mailto:me@example.org") == "mybot/1 (+mailto:me@example.org)"
