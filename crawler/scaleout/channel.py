"""The Redis side that workers and the drain share: the client, a worker's outbox
(its numbered item stream) and the workers registry (heartbeats on Redis's clock).

Pure: no Scrapy; ``redis`` is imported lazily (the ``distributed`` extra).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from crawler.items import Article, Failure
from crawler.scaleout.codec import DistributedError, Keys, Message, check_url, encode_message

logger = logging.getLogger(__name__)

#: seconds between a worker's heartbeats in the workers registry.
HEARTBEAT_SECONDS = 5
#: a worker silent for this long is taken for dead (killed, machine lost).
STALE_SECONDS = 30
#: the drain lock expires this long after the drain's last sign of life.
EXTRA_HINT = "install the distributed extra: pip install '.[distributed]'"


def connect(url: str) -> Any:
    """A redis client for ``url`` (bytes replies), or :class:`DistributedError`."""
    try:
        import redis
    except ImportError:
        raise DistributedError(f"Redis support is not installed; {EXTRA_HINT}") from None
    return redis.Redis.from_url(
        check_url(url),
        socket_timeout=30,
        socket_connect_timeout=10,
        retry_on_timeout=True,
        health_check_interval=30,
    )


@dataclass
class Outbox:
    """A worker's side of the item list: numbered messages, pushed in order."""

    client: Any
    keys: Keys
    worker: str
    spider: str
    seq: int = 0

    def push(self, kind: str, item: Article | Failure | None = None, **data: Any) -> None:
        msg = Message(kind, self.worker, self.seq, self.spider, item, data)
        self.client.rpush(self.keys.items, encode_message(msg))
        self.seq += 1

    # --- the workers registry (server clock: machines' clocks may differ) -----

    def heartbeat(self) -> None:
        self.client.zadd(self.keys.workers(self.spider), {self.worker: _server_time(self.client)})

    def leave(self, clear_if_last: bool) -> bool:
        """Deregister; the last live worker out clears the spider's frontier.

        Returns whether it cleared it (only when the shared queue is empty too).
        """
        stale_before = _server_time(self.client) - STALE_SECONDS
        cleared = self.client.eval(
            _LEAVE,
            3,
            self.keys.workers(self.spider),
            self.keys.requests(self.spider),
            self.keys.dupefilter(self.spider),
            self.worker,
            stale_before,
            1 if clear_if_last else 0,
        )
        return bool(cleared)


_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if ARGV[3] == '1' and redis.call('ZCARD', KEYS[1]) == 0
   and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""


def _server_time(client: Any) -> int:
    return int(client.time()[0])


def alive_workers(client: Any, keys: Keys, spider: str) -> set[str]:
    """Workers of ``spider`` whose heartbeat is recent."""
    since = _server_time(client) - STALE_SECONDS
    return {
        w.decode() if isinstance(w, bytes) else w
        for w in client.zrangebyscore(keys.workers(spider), since, "+inf")
    }
