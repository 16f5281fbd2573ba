"""crawler.netsafety: what the crawler may fetch."""

from __future__ import annotations

import pytest

from crawler.downloadermiddlewares.useragent import user_agent
from crawler.netsafety import AllowedHosts, address_refusal, is_followable, url_problem


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


ALLOWED = AllowedHosts.parse("127.0.0.1:8080, 10.0.0.0/8, intranet.example, [::1]:8443")


@pytest.mark.parametrize(
    ("host", "address", "port", "ok"),
    [
        ("127.0.0.1", "127.0.0.1", 8080, True),
        ("127.0.0.1", "127.0.0.1", 8081, False),  # another port of the same host
        ("10.1.2.3", "10.1.2.3", 80, True),  # inside the network
        ("172.16.0.1", "172.16.0.1", 80, False),  # private, not in 10.0.0.0/8
        ("intranet.example", "192.168.1.5", 443, True),  # by name, any port
        ("evil.example", "192.168.1.5", 443, False),
        ("::1", "::1", 8443, True),
        ("169.254.169.254", "169.254.169.254", 80, False),
    ],
)
def test_allow_private_hosts_allows_only_what_it_names(host, address, port, ok):
    refusal = address_refusal(host, [address], ALLOWED, port)
    if ok:
        assert refusal is None
    else:
        assert refusal is not None and "ALLOW_PRIVATE_HOSTS" in refusal


@pytest.mark.parametrize("text", ["10.0.0.0/33", "host:notaport", "a/b/c", "http://x/y"])
def test_a_bad_allow_private_hosts_entry_is_refused(text):
    with pytest.raises(ValueError, match="not"):
        AllowedHosts.parse(text)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://a.example:99999/", "port is out of range"),
        ("http://a.example:port/", "port is not a number"),
        ("http://[::1/broken", "IPv6"),
        ("http:///no-host", "names no host"),
        ("http://a.example/\x01", "control characters"),
    ],
)
def test_url_problem_says_what_is_wrong(url, words):
    problem = url_problem(url)
    assert problem is not None and words in problem


def test_url_problem_passes_good_urls():
    assert url_problem("https://news.example:8443/a?b=1,2#c") is None
    assert url_problem("http://[2001:db8::1]:80/x") is None
