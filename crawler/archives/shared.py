"""Scale-out: the files of a listing as a work queue shared in Redis.

With ``CORPUS_REDIS_URL`` set, N ``warc`` workers given the same listing
share its files: a worker reads a file only once it holds the file's claim
(``<key>:warc:claim:<file>``, a Redis key that expires :data:`CLAIM_SECONDS`
after the worker's last sign of life), and records the file's progress in
``<key>:warc:progress`` (a hash: file -> JSON offset, done, finished) once
the file's items are in the shared item list, from which ``scrapy corpus
drain`` writes them. A worker that dies leaves its claim to expire; a live
worker still waiting on that file then claims it and resumes it where the
progress says.

Pure: takes a redis-py client; no Scrapy, no Twisted.
"""

from __future__ import annotations

import json
from typing import Any

from crawler.archives.progress import Progress

#: a claim lapses this long after its holder's last sign of life
CLAIM_SECONDS = 30

_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_SAVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SharedFiles:
    def __init__(self, client: Any, prefix: str, worker: str, ttl: int = CLAIM_SECONDS) -> None:
        self.client = client
        self.prefix = prefix
        self.worker = worker
        self.ttl = ttl

    @property
    def progress_key(self) -> str:
        return f"{self.prefix}:warc:progress"

    def claim_key(self, location: str) -> str:
        return f"{self.prefix}:warc:claim:{location}"

    def progress(self, location: str) -> Progress | None:
        raw = self.client.hget(self.progress_key, location)
        if raw is None:
            return None
        data = json.loads(raw)
        return Progress(
            location, int(data["offset"]), frozenset(data["done"]), bool(data["finished"])
        )

    def claim(self, location: str) -> bool:
        """Take ``location`` for this worker (True), unless another live worker holds it."""
        key = self.claim_key(location)
        if self.client.set(key, self.worker, nx=True, ex=self.ttl):
            return True
        return bool(self.client.eval(_REFRESH, 1, key, self.worker, self.ttl))

    def holder(self, location: str) -> str | None:
        value = self.client.get(self.claim_key(location))
        return value.decode() if isinstance(value, bytes) else value

    def alive(self, location: str) -> bool:
        """Does this worker still hold ``location``? (Refreshes the claim.)"""
        return bool(self.client.eval(_REFRESH, 1, self.claim_key(location), self.worker, self.ttl))

    def save(self, progress: Progress) -> bool:
        """Record ``progress`` and refresh the claim, if this worker still holds
        the file (False: the claim lapsed and another worker may have it)."""
        data = json.dumps(
            {
                "offset": progress.offset,
                "done": sorted(progress.done),
                "finished": progress.finished,
                "worker": self.worker,
            }
        )
        key = self.claim_key(progress.location)
        return bool(
            self.client.eval(
                _SAVE, 2, key, self.progress_key, self.worker, self.ttl, progress.location, data
            )
        )

    def release(self, location: str) -> None:
        self.client.eval(_RELEASE, 1, self.claim_key(location), self.worker)
