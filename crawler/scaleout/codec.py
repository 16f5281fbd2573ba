"""The wire format of scale-out: Redis keys, tagged JSON, and the item messages.

Workers and the drain agree on these and nothing else: :class:`Keys` (every key under
one ``CORPUS_REDIS_KEY`` prefix), :class:`TaggedJSON` (requests stored without pickle)
and :class:`Message` (one Article, Failure or crawl frame, as a JSON object with a type
tag). Pure: no Scrapy, no Redis client; may import :mod:`crawler.items`.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from crawler.items import Article, Failure

DEFAULT_KEY = "newscorpus"
MESSAGE_VERSION = 1
EXTRA_HINT = "install the distributed extra: pip install '.[distributed]'"


class DistributedError(Exception):
    """Redis is unreachable or misused; ``str(exc)`` says why."""


# --- keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Redis keys under one ``CORPUS_REDIS_KEY`` prefix.

    The frontier (queue, duplicate filter, live workers) is per spider; the
    item list is one per prefix, because one drain writes one corpus.
    """

    prefix: str = DEFAULT_KEY

    def requests(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:requests"

    def dupefilter(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:dupefilter"

    def workers(self, spider: str) -> str:
        return f"{self.prefix}:{spider}:workers"

    @property
    def items(self) -> str:
        return f"{self.prefix}:items"

    @property
    def invalid(self) -> str:
        return f"{self.prefix}:items:invalid"

    @property
    def warc_progress(self) -> str:
        """The ``warc`` workers' file progress (hash: file -> JSON), :mod:`crawler.archives.shared`."""
        return f"{self.prefix}:warc:progress"

    @property
    def drain_lock(self) -> str:
        return f"{self.prefix}:drain"

    @property
    def drain_inflight(self) -> str:
        """Size of the batch being written; gone once it is trimmed."""
        return f"{self.prefix}:drain:inflight"


def default_worker_id() -> str:
    """``host-pid-xxxx``: unique per crawl process, readable in ``crawls.stats``."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"


def check_url(url: str) -> str:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise DistributedError(
            f"CORPUS_REDIS_URL {url!r} must start with redis://, rediss:// or unix://"
        )
    return url


def check_key(key: str) -> str:
    if "%" in key or any(c.isspace() for c in key):
        raise DistributedError(f"CORPUS_REDIS_KEY {key!r} must not contain '%' or spaces")
    return key


# --- tagged JSON --------------------------------------------------------------


class TaggedJSON:
    """JSON that round-trips bytes, non-string dict keys, tuples-as-lists and dates.

    The scheduler stores requests with it (``Request.to_dict()`` holds bytes
    headers and bodies), so nothing read from Redis is ever unpickled: a
    writable Redis must not mean code execution on every worker.
    """

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(self._enc(obj), separators=(",", ":")).encode()

    def loads(self, data: bytes | str) -> Any:
        return self._dec(json.loads(data))

    def _enc(self, o: Any) -> Any:
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        if isinstance(o, (bytes, bytearray)):
            return {"$b": base64.b64encode(bytes(o)).decode("ascii")}
        if isinstance(o, (list, tuple)):
            return [self._enc(v) for v in o]
        if isinstance(o, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in o):
                return {k: self._enc(v) for k, v in o.items()}
            return {"$d": [[self._enc(k), self._enc(v)] for k, v in o.items()]}
        if isinstance(o, datetime):
            return {"$dt": o.isoformat()}
        if isinstance(o, date):
            return {"$date": o.isoformat()}
        raise TypeError(f"cannot store a {type(o).__name__} in Redis as JSON: {o!r:.80}")

    def _dec(self, o: Any) -> Any:
        if isinstance(o, list):
            return [self._dec(v) for v in o]
        if not isinstance(o, dict):
            return o
        if len(o) == 1:
            ((tag, value),) = o.items()
            if tag == "$b":
                return base64.b64decode(value)
            if tag == "$d":
                return {self._dec(k): self._dec(v) for k, v in value}
            if tag == "$dt":
                return datetime.fromisoformat(value)
            if tag == "$date":
                return date.fromisoformat(value)
        return {k: self._dec(v) for k, v in o.items()}


CODEC = TaggedJSON()


# --- messages -----------------------------------------------------------------

ITEM_TYPES: dict[str, type] = {"article": Article, "failure": Failure}
KINDS = ("crawl_start", "article", "failure", "crawl_finish")


class InvalidMessage(ValueError):
    """A message the drain cannot use; it goes to the ``:items:invalid`` list."""


@dataclass
class Message:
    kind: str  # one of KINDS
    worker: str
    #: the message's number in its worker's stream (0 = crawl_start): for
    #: reading a list by hand; the drain relies on list order, not on this.
    seq: int
    spider: str
    item: Article | Failure | None = None
    #: crawl_start: args, at; crawl_finish: reason, stats, at.
    data: dict[str, Any] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encode_message(msg: Message) -> bytes:
    """One JSON object: ``{"v", "type", "worker", "seq", "spider", "item"|...}``."""
    out: dict[str, Any] = {
        "v": MESSAGE_VERSION,
        "type": msg.kind,
        "worker": msg.worker,
        "seq": msg.seq,
        "spider": msg.spider,
    }
    if msg.item is not None:
        out["item"] = asdict(msg.item)
    out.update(msg.data)
    return json.dumps(out, default=str, ensure_ascii=False).encode()


def item_from_dict(kind: str, data: Any) -> Article | Failure:
    """Rebuild an item; unknown fields (from a newer worker) are ignored."""
    cls = ITEM_TYPES[kind]
    if not isinstance(data, dict):
        raise InvalidMessage(f"{kind}: 'item' is not an object")
    known = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except TypeError as exc:
        raise InvalidMessage(f"{kind}: {exc}") from None


def decode_message(raw: bytes | str) -> Message:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidMessage("not a JSON object")
    kind, worker, seq = obj.pop("type", None), obj.pop("worker", None), obj.pop("seq", None)
    if kind not in KINDS:
        raise InvalidMessage(f"unknown message type {kind!r}")
    if not isinstance(worker, str) or not worker or not isinstance(seq, int):
        raise InvalidMessage(f"{kind}: missing worker or seq")
    obj.pop("v", None)
    spider = str(obj.pop("spider", "") or "?")
    item = item_from_dict(kind, obj.pop("item", None)) if kind in ITEM_TYPES else None
    return Message(kind, worker, seq, spider, item, obj)
