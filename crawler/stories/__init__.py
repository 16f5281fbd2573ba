"""Stories: which articles cover the same event.

Owns the pure decisions: terms and their weights, the choice of a story among candidates,
re-partitioning of two stories, sentence keys for the story view. Pure: no Scrapy, no
SQLite (the candidate lookups live in :mod:`crawler.storage`). May import :mod:`crawler.dedup`.
"""
