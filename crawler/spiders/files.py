"""``scrapy crawl files -a path=FILE_OR_FOLDER``: local article files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.items import Page
from crawler.spiders import ArgumentError, CorpusSpider

EXTENSIONS = (".txt", ".html", ".htm", ".html.gz", ".htm.gz", ".txt.gz")


def supported(path: Path) -> bool:
    return path.name.lower().endswith(EXTENSIONS)


def list_files(root: Path) -> list[Path]:
    """Supported files under ``root`` (a file or a folder, recursive), sorted.

    An entry with a supported name that is no regular file (a FIFO, a broken or
    looping symbolic link) is listed too: its request fails and says why,
    instead of the entry vanishing from the crawl's account.
    """
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if supported(p) and not p.is_dir())


class FilesSpider(CorpusSpider):
    name = "files"
    custom_settings = {"ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False}

    def __init__(self, path: str = "seeds", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, path=path, **kwargs)
        self.root = self.check_path(path)

    @staticmethod
    def check_path(path: str) -> Path:
        root = Path(path).expanduser()
        if not root.exists():
            raise ArgumentError(f"path {path!r} does not exist")
        if root.is_file() and not supported(root):
            raise ArgumentError(f"path {path!r} is not a supported file ({', '.join(EXTENSIONS)})")
        if root.is_dir() and not list_files(root):
            raise ArgumentError(f"folder {path!r} holds no {', '.join(EXTENSIONS)} files")
        return root.resolve()

    @classmethod
    def check_arguments(cls, **kwargs: Any) -> None:
        cls.check_path(kwargs.get("path", "seeds"))

    async def start(self) -> AsyncIterator[Any]:
        files = list_files(self.root)
        self.crawler.stats.set_value("files/found", len(files))
        for path in files:
            yield scrapy.Request(path.as_uri(), callback=self.parse, errback=self.request_failed)

    def parse(self, response: Response) -> Page:
        name = response.url.lower()
        ctype = "text/plain" if name.endswith((".txt", ".txt.gz")) else "text/html"
        page = self.page_from(response)
        page.content_type = ctype
        return page
