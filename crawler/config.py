"""The project's settings, read once into one frozen, typed, validated object.

:class:`Config` has a field for every project setting (``CORPUS_*``, ``CLEAN_*``,
``ALLOW_PRIVATE_*``): the field is the setting's name in lower case. The
defaults are written once, in :mod:`crawler.settings` (the module Scrapy loads and
users read, as Scrapy keeps its own in ``default_settings``); the fields take them
from there, so a crawler built without the project settings (``get_crawler()`` in a
test, a script) still gets them. A value that does not fit is one
:class:`ConfigError` naming the setting.

Components build it in ``from_crawler`` (``Config.from_settings(crawler.settings)``,
microseconds on frozen settings) and pass plain values on. Pure: no Scrapy import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol

from crawler import settings as defaults
from crawler.netsafety import AllowedHosts


class ConfigError(ValueError):
    """A setting has a value the crawler cannot use; ``str(exc)`` names it."""


class SettingsLike(Protocol):
    """What is read of Scrapy's ``BaseSettings`` (a dict works too)."""

    def get(self, name: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class Config:
    # --- the corpus
    corpus_db: str = defaults.CORPUS_DB
    corpus_batch_size: int = defaults.CORPUS_BATCH_SIZE
    corpus_writer_thread: bool = defaults.CORPUS_WRITER_THREAD
    corpus_busy_timeout: float = defaults.CORPUS_BUSY_TIMEOUT
    corpus_keep_raw: bool = defaults.CORPUS_KEEP_RAW
    corpus_skip_known: bool = defaults.CORPUS_SKIP_KNOWN
    corpus_progress_interval: float = defaults.CORPUS_PROGRESS_INTERVAL
    # --- politeness and safety
    corpus_contact_url: str = defaults.CORPUS_CONTACT_URL
    allow_private_networks: bool = defaults.ALLOW_PRIVATE_NETWORKS
    allow_private_hosts: str = defaults.ALLOW_PRIVATE_HOSTS
    corpus_retry_after_max: float = defaults.CORPUS_RETRY_AFTER_MAX
    # --- cleaning
    clean_min_words: int = defaults.CLEAN_MIN_WORDS
    clean_workers: int = defaults.CLEAN_WORKERS
    clean_site_rules: str = defaults.CLEAN_SITE_RULES
    clean_site_profiles: bool = defaults.CLEAN_SITE_PROFILES
    # --- scale-out
    corpus_redis_url: str = defaults.CORPUS_REDIS_URL
    corpus_redis_key: str = defaults.CORPUS_REDIS_KEY
    corpus_redis_idle_close: float = defaults.CORPUS_REDIS_IDLE_CLOSE

    def __post_init__(self) -> None:
        for name, low in (
            ("corpus_batch_size", 1),
            ("corpus_busy_timeout", 0),
            ("clean_min_words", 0),
            ("corpus_redis_idle_close", 0),
            ("corpus_retry_after_max", 0),
        ):
            if getattr(self, name) < low:
                raise ConfigError(
                    f"{name.upper()} must be {low} or more, not {getattr(self, name)}"
                )
        try:
            AllowedHosts.parse(self.allow_private_hosts)
        except ValueError as exc:
            raise ConfigError(f"ALLOW_PRIVATE_HOSTS: {exc}") from None
        if self.corpus_redis_url:
            # imported here: crawler.scaleout's __init__ stays out of every crawl
            from crawler.scaleout.codec import DistributedError, check_key, check_url

            try:
                check_url(self.corpus_redis_url)
                check_key(self.corpus_redis_key)
            except DistributedError as exc:
                raise ConfigError(str(exc)) from None

    @property
    def allowed_hosts(self) -> AllowedHosts:
        """``ALLOW_PRIVATE_HOSTS``, parsed."""
        return AllowedHosts.parse(self.allow_private_hosts)

    @property
    def distributed(self) -> bool:
        """A scale-out worker: the frontier and the items live in Redis, not CORPUS_DB."""
        return bool(self.corpus_redis_url)

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> Config:
        """Every project setting of ``settings``; one missing takes the project default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.name.upper()
            raw = settings.get(name)
            if raw is None:
                continue
            convert = _CONVERTERS[str(f.type)]
            try:
                values[f.name] = convert(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be {_EXPECTED[str(f.type)]}, not {raw!r}") from None
        return cls(**values)

    @classmethod
    def setting_names(cls) -> list[str]:
        return [f.name.upper() for f in fields(cls)]


def _bool(value: Any) -> bool:
    """Scrapy's ``getbool``: True/False, 1/0, and their strings."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    raise ValueError(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _str(value: Any) -> str:
    if isinstance(value, os.PathLike):  # CORPUS_DB = Path(...) in a project's settings
        return str(os.fspath(value))
    if not isinstance(value, str):
        raise TypeError(value)
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _str,
    "int": _int,
    "float": float,
    "bool": _bool,
}
_EXPECTED = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "True or False (1 or 0)",
}
