"""``ContactUserAgentMiddleware``: sends ``USER_AGENT`` with ``CORPUS_CONTACT_URL``
appended (replaces Scrapy's UserAgentMiddleware), so site operators know whom to ask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.config import Config

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


def user_agent(base: str, contact: str) -> str:
    """``base`` with the contact URL appended (inside its comment when it has one)."""
    contact = contact.strip()
    if not contact or contact in base:
        return base
    if base.endswith(")"):
        return f"{base[:-1]}; +{contact})"
    return f"{base} (+{contact})"


class ContactUserAgentMiddleware:
    def __init__(self, agent: str) -> None:
        self.agent = agent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        base = crawler.settings.get("USER_AGENT") or ""  # Scrapy's setting
        return cls(user_agent(base, Config.from_settings(crawler.settings).corpus_contact_url))

    def process_request(self, request: Request) -> None:
        if self.agent:
            request.headers.setdefault(b"User-Agent", self.agent)
