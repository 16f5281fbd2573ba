"""Which records to keep, decided from their WARC headers alone.

``hosts``: a record is kept when its host is one of them or under one of them
(``example.com`` keeps ``example.com``, ``www.example.com`` and
``news.example.com``, not ``badexample.com``); a leading ``www.`` is ignored on
both sides. ``since`` and ``until``: days (``YYYY-MM-DD``, both included) or
instants (ISO 8601) that the record's WARC-Date must fall between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit


def normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if "://" in host:
        host = urlsplit(host).hostname or ""
    host = host.split(":", 1)[0] if host.count(":") == 1 else host
    return host[4:] if host.startswith("www.") else host


def parse_hosts(value: str | None) -> frozenset[str]:
    """``a.com, www.b.org`` -> ``{a.com, b.org}``; ValueError for an empty entry."""
    if not value:
        return frozenset()
    hosts = set()
    for part in value.split(","):
        host = normalize_host(part)
        if not host or "/" in host or " " in host:
            raise ValueError(f"hosts: {part.strip()!r} is not a host name")
        hosts.add(host)
    return frozenset(hosts)


def parse_instant(value: str | None, *, end: bool = False) -> datetime | None:
    """A day (the start of it, or with ``end`` the start of the next) or an
    ISO 8601 instant (UTC unless it says otherwise); ValueError if neither."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        start = datetime.combine(day, time(), UTC)
        return start + timedelta(days=1) if end else start
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected YYYY-MM-DD or an ISO 8601 date and time, got {text!r}"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RecordFilter:
    hosts: frozenset[str] = frozenset()
    since: datetime | None = None  # included
    until: datetime | None = None  # excluded (the day after an ``until`` day)

    @classmethod
    def parse(
        cls, hosts: str | None = None, since: str | None = None, until: str | None = None
    ) -> RecordFilter:
        out = cls(parse_hosts(hosts), parse_instant(since), parse_instant(until, end=True))
        if out.since and out.until and out.until <= out.since:
            raise ValueError(f"until ({until}) is before since ({since})")
        return out

    def host_kept(self, url: str) -> bool:
        if not self.hosts:
            return True
        try:
            host = normalize_host(urlsplit(url).hostname or "")
        except ValueError:
            return False
        while host:
            if host in self.hosts:
                return True
            _, _, host = host.partition(".")
        return False

    def date_kept(self, when: datetime | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if when is None:
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )

    def why_not(self, url: str, when: datetime | None) -> str | None:
        """``host`` or ``date`` when the record is filtered out, else ``None``."""
        if not self.host_kept(url):
            return "host"
        if not self.date_kept(when):
            return "date"
        return None
