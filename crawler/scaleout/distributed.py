"""The names ``crawler.scaleout.distributed`` had before it was split (0.1.0).

Kept so that settings naming ``crawler.scaleout.distributed.DistributedAddon`` (or
its scheduler, duplicate filter, middleware, extension or pipeline) and code
importing the codec or the drain from here keep working. New code imports from the
modules that own them (see :mod:`crawler.scaleout`).
"""

from __future__ import annotations

from crawler.scaleout.addon import DistributedAddon
from crawler.scaleout.channel import (
    EXTRA_HINT,
    HEARTBEAT_SECONDS,
    STALE_SECONDS,
    Outbox,
    alive_workers,
    connect,
)
from crawler.scaleout.codec import (
    CODEC,
    DEFAULT_KEY,
    ITEM_TYPES,
    KINDS,
    MESSAGE_VERSION,
    DistributedError,
    InvalidMessage,
    Keys,
    Message,
    TaggedJSON,
    check_key,
    check_url,
    decode_message,
    default_worker_id,
    encode_message,
    item_from_dict,
    now,
)
from crawler.scaleout.drain import (
    COUNTER_PREFIXES,
    LOCK_SECONDS,
    MAX_BATCH,
    WORKER_STAT,
    CrawlState,
    Drainer,
    DrainReport,
    drain,
    outcome_stat,
)
from crawler.scaleout.dupefilter import RedisDupeFilter
from crawler.scaleout.extension import SharedQueueIdle
from crawler.scaleout.pipeline import RedisItemPipeline
from crawler.scaleout.scheduler import RedisScheduler
from crawler.scaleout.spidermiddleware import ClaimStartMiddleware

__all__ = [
    "CODEC",
    "COUNTER_PREFIXES",
    "DEFAULT_KEY",
    "EXTRA_HINT",
    "HEARTBEAT_SECONDS",
    "ITEM_TYPES",
    "KINDS",
    "LOCK_SECONDS",
    "MAX_BATCH",
    "MESSAGE_VERSION",
    "STALE_SECONDS",
    "WORKER_STAT",
    "ClaimStartMiddleware",
    "CrawlState",
    "DistributedAddon",
    "DistributedError",
    "DrainReport",
    "Drainer",
    "InvalidMessage",
    "Keys",
    "Message",
    "Outbox",
    "RedisDupeFilter",
    "RedisItemPipeline",
    "RedisScheduler",
    "SharedQueueIdle",
    "TaggedJSON",
    "alive_workers",
    "check_key",
    "check_url",
    "connect",
    "decode_message",
    "default_worker_id",
    "drain",
    "encode_message",
    "item_from_dict",
    "now",
    "outcome_stat",
]
