"""The shared second level of toon-tools' caches: Redis or Valkey, through redis-py.

Token counts and model replies are looked up in the local diskcache first, then
here; a hit here is copied to the local level, and new values go to both. Keys
are the local cache's content-addressed keys under one prefix
(``toon:v1:tokens:<encoding>:<sha256>``, ``toon:v1:reply:<call key>``); values
are zlib-compressed JSON; ``cache-ttl`` is every value's expiry.

The level is a speed-up, never a point of failure (turborepo's and nx's remote
caches behave the same way). The first error of any kind (refused, unreachable,
slow, full, wrong password, not a Redis at all) switches the level off for the
rest of the process and is kept as ONE line in :attr:`SharedCache.problem` (the
URL's password redacted) for the caller to print; every later call is a miss or
a no-op at once, so no key ever waits for a timeout again.

Single-flight across machines (model replies): a call that misses on both
levels takes a lease (``SET toon:v1:lease:<key> <token> NX PX 15000``), which a
heartbeat thread renews while the call runs and a compare-and-delete script
releases when the reply is stored or the call given up. Another machine that
finds the lease waits for the reply (polling with backoff), or for the lease to
go (released, or expired because its holder died), and then takes it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypedDict
from urllib.parse import urlsplit

#: Every key toon-tools writes starts with this; ``clear`` touches no other key.
PREFIX: Final = "toon:v1:"
TOKENS: Final = PREFIX + "tokens:"
REPLIES: Final = PREFIX + "reply:"
LEASES: Final = PREFIX + "lease:"
#: The expiry of a value when ``cache-ttl`` is not set: 7 days, as Vercel's
#: remote cache keeps turborepo's artifacts. 0 stores without expiry.
DEFAULT_TTL: Final = 7 * 86_400
#: Seconds to connect, and to wait for any answer: a shared cache slower than
#: this is no speed-up, so it is switched off instead.
CONNECT_TIMEOUT: Final = 0.3
READ_TIMEOUT: Final = 0.5
#: A lease lives this long unless renewed; the heartbeat renews it every third.
LEASE_MS: Final = 15_000
#: The longest a lookup waits for another machine's call before making it
#: itself (a duplicate call, never a hang).
WAIT_LIMIT: Final = 600.0
_BATCH: Final = 1_000  # keys per MGET / per SCAN step
_SCAN_LIMIT: Final = 100_000  # keys ``info`` looks at before saying "at least"

# Renew / release a lease only while it is still ours.
_RENEW: Final = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                 "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end")
_RELEASE: Final = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                   "return redis.call('del', KEYS[1]) else return 0 end")

_PIPELINE_COMMAND: Final = re.compile(r"^Command # \d+ \(.*\) of pipeline caused error: ", re.S)
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION: Final = re.compile(r"([0-9]+)([smhdw]?)")


def parse_ttl(value: Any) -> int:
    """Seconds from ``cache-ttl``: a non-negative integer, or a duration like
    ``"30d"`` (s, m, h, d, w); 0 means no expiry. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected seconds or a duration like '30d'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("expected a non-negative number of seconds")
        return value
    m = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise ValueError("expected seconds or a duration like '30d' (s, m, h, d, w)")
    return int(m[1]) * _UNITS[m[2] or "s"]


def check_url(value: Any) -> str:
    """A URL redis-py takes (``redis://``, ``rediss://``, ``unix://``); ValueError
    otherwise (never quoting a password)."""
    if not isinstance(value, str):
        raise ValueError("expected a string")
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"{redact(value)!r} is not a redis://, rediss:// or unix:// URL")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError(f"{redact(value)!r}: the port is not a number from 0 to 65535") \
            from None
    return value


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` query) as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = "&".join("password=***" if q.split("=", 1)[0].lower() == "password" else q
                     for q in parts.query.split("&")) if parts.query else ""
    return (f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


def pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def unpack(data: Any) -> Any:
    """The value, or None for anything that is not one of ours (never raises)."""
    try:
        return json.loads(zlib.decompress(data))
    except (zlib.error, TypeError, ValueError):
        return None


class SharedInfo(TypedDict):
    url: str  # redacted
    reachable: bool
    problem: str | None
    keys: int  # under PREFIX (at least this many when ``bounded``)
    bytes: int  # their values' compressed size
    bounded: bool
    used_memory: int | None
    maxmemory: int | None  # 0: no limit


class SharedCache:
    """One Redis/Valkey server for one process: thread-safe, switched off for
    good at its first failure (see :attr:`problem`)."""

    def __init__(self, url: str, ttl: int = DEFAULT_TTL, *,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 timeout: float = READ_TIMEOUT) -> None:
        self.url = url
        self.shown = redact(url)
        self.ttl = ttl
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        #: Why the level is off, in one line (None while it works).
        self.problem: str | None = None
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def off(self) -> bool:
        return self.problem is not None

    # -- the connection, and failing once

    def _redis(self) -> Any:
        with self._lock:
            if self._client is None and self.problem is None:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                self._client = redis.Redis.from_url(
                    self.url, socket_connect_timeout=self.connect_timeout,
                    socket_timeout=self.timeout, retry=Retry(NoBackoff(), 0),
                    retry_on_timeout=False, health_check_interval=0)
            return self._client

    def fail(self, error: BaseException) -> None:
        """Switch the level off, keeping the first reason; close the connections."""
        with self._lock:
            if self.problem is None:
                self.problem = (f"shared cache {self.shown} {self._reason(error)}; "
                                "going on with the local cache only")
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a broken client is best effort
                pass

    def _reason(self, error: BaseException) -> str:
        import redis.exceptions as rx

        # A pipeline's error quotes its command, values and all: keep the reason.
        text = _PIPELINE_COMMAND.sub("", " ".join(str(error).split()))
        password = urlsplit(self.url).password if "://" in self.url else None
        if password:
            text = text.replace(password, "***")
        if isinstance(error, rx.AuthenticationError) or text.startswith(("WRONGPASS", "NOAUTH",
                                                                         "invalid password")):
            return f"refused the credentials ({text})"
        if isinstance(error, rx.TimeoutError) or isinstance(error, TimeoutError):
            if "connect" in text.lower():
                return f"is unreachable (no connection within {self.connect_timeout:g} s)"
            return f"did not answer within {self.timeout:g} s"
        if isinstance(error, rx.OutOfMemoryError) or text.startswith("OOM"):
            return f"is full ({text})"
        if isinstance(error, rx.ConnectionError) and "refused" in text.lower():
            return f"is down ({text})"
        if isinstance(error, (rx.InvalidResponse,)) or "protocol" in text.lower():
            return f"does not answer as a Redis server ({text})"
        return f"failed ({type(error).__name__}: {text})"

    def _run(self, op: Any, default: Any) -> Any:
        """``op(client)``, or ``default`` when the level is off or fails now."""
        if self.problem is not None:
            return default
        try:
            # Making the client reads the URL's options: one it cannot read
            # switches the level off like any failure.
            client = self._redis()
            if client is None:
                return default
            return op(client)
        except Exception as e:  # noqa: BLE001 - any failure degrades, by design
            self.fail(e)
            return default

    # -- values

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """The values found for ``keys`` (full keys), in one round trip."""
        if not keys or self.off:
            return {}

        def op(r: Any) -> dict[str, Any]:
            pipe = r.pipeline(transaction=False)
            for i in range(0, len(keys), _BATCH):
                pipe.mget(keys[i:i + _BATCH])
            found: dict[str, Any] = {}
            for i, values in zip(range(0, len(keys), _BATCH), pipe.execute()):
                for key, data in zip(keys[i:i + _BATCH], values):
                    if data is not None:
                        value = unpack(data)
                        if value is not None:
                            found[key] = value
            return found

        result: dict[str, Any] = self._run(op, {})
        return result

    def get(self, key: str) -> Any:
        return self.get_many([key]).get(key)

    def set_many(self, items: Mapping[str, Any]) -> None:
        """Store each value with the TTL, in one round trip."""
        if not items or self.off:
            return

        def op(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            for key, value in items.items():
                pipe.set(key, pack(value), ex=self.ttl or None)
            pipe.execute()

        self._run(op, None)

    def set(self, key: str, value: Any) -> None:
        self.set_many({key: value})

    # -- leases

    def try_lease(self, key: str, token: str, ms: int = LEASE_MS) -> bool:
        return bool(self._run(lambda r: r.set(key, token, nx=True, px=ms), False))

    def lease_held(self, key: str) -> bool:
        return bool(self._run(lambda r: r.exists(key), False))

    def renew(self, leases: Mapping[str, str], ms: int = LEASE_MS) -> None:
        if not leases or self.off:
            return

        def op(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            for key, token in leases.items():
                pipe.eval(_RENEW, 1, key, token, ms)
            pipe.execute()

        self._run(op, None)

    def release(self, key: str, token: str) -> None:
        self._run(lambda r: r.eval(_RELEASE, 1, key, token), None)

    # -- upkeep

    def info(self) -> SharedInfo:
        """Reachable or why not; keys and bytes under the prefix (SCAN, bounded);
        the server's used and maximum memory."""
        out: SharedInfo = {"url": self.shown, "reachable": False, "problem": None, "keys": 0,
                           "bytes": 0, "bounded": False, "used_memory": None,
                           "maxmemory": None}

        def op(r: Any) -> None:
            memory = r.info("memory")
            out["used_memory"] = int(memory.get("used_memory", 0))
            out["maxmemory"] = int(memory.get("maxmemory", 0))
            seen = 0
            for chunk in _chunks(r.scan_iter(match=PREFIX + "*", count=_BATCH), _BATCH):
                pipe = r.pipeline(transaction=False)
                for key in chunk:
                    pipe.strlen(key)
                out["bytes"] += sum(int(n) for n in pipe.execute())
                seen += len(chunk)
                if seen >= _SCAN_LIMIT:
                    out["bounded"] = True
                    break
            out["keys"] = seen
            out["reachable"] = True

        self._run(op, None)
        out["problem"] = self.problem
        return out

    def clear(self, prefixes: Sequence[str] = (TOKENS, REPLIES)) -> int:
        """Remove our keys under ``prefixes`` (never another application's; leases
        stay and expire by themselves); the number removed."""
        removed = 0

        def op(r: Any) -> None:
            nonlocal removed
            for prefix in prefixes:
                for chunk in _chunks(r.scan_iter(match=prefix + "*", count=_BATCH), _BATCH):
                    removed += int(r.unlink(*chunk))

        self._run(op, None)
        return removed

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - best effort
                pass


def _chunks(items: Iterable[Any], n: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Leases:
    """The leases this process holds, renewed by one heartbeat thread."""

    def __init__(self, shared: SharedCache, ms: int = LEASE_MS) -> None:
        self.shared = shared
        self.ms = ms
        self._held: dict[str, tuple[str, int]] = {}  # lease key -> (token, holders)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, key: str) -> bool:
        """Whether this process now holds ``key``'s lease (already holding it counts)."""
        with self._lock:
            if key in self._held:
                token, n = self._held[key]
                self._held[key] = (token, n + 1)
                return True
        token = secrets.token_hex(16)
        if not self.shared.try_lease(key, token, self.ms):
            return False
        with self._lock:
            self._held[key] = (token, 1)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, daemon=True,
                                                name="toon-cache-lease")
                self._thread.start()
        return True

    def holds(self, key: str) -> bool:
        with self._lock:
            return key in self._held

    def drop(self, key: str, *, all_holders: bool = False) -> None:
        """One holder gives up ``key`` (every holder: the value is stored); the
        lease is released when none is left."""
        with self._lock:
            held = self._held.get(key)
            if held is None:
                return
            token, n = held
            if n > 1 and not all_holders:
                self._held[key] = (token, n - 1)
                return
            del self._held[key]
        self.shared.release(key, token)

    def _beat(self) -> None:
        while not self._stop.wait(self.ms / 3000):
            with self._lock:
                leases = {k: t for k, (t, _) in self._held.items()}
            self.shared.renew(leases, self.ms)

    def close(self) -> None:
        """Release every lease still held; stop the heartbeat."""
        self._stop.set()
        with self._lock:
            held, self._held = self._held, {}
        for key, (token, _) in held.items():
            self.shared.release(key, token)
        if self._thread is not None:
            self._thread.join(timeout=2)


# -- one level per server per process, so one run reports one warning line

_LEVELS: dict[tuple[str, int], SharedCache] = {}
_LEVELS_LOCK: Final = threading.Lock()


def level_for(url: str, ttl: int) -> SharedCache:
    """The process's :class:`SharedCache` for ``url``: token counts and replies
    share it, so a failure is found (and reported) once."""
    with _LEVELS_LOCK:
        found = _LEVELS.get((url, ttl))
        if found is None:
            found = _LEVELS[(url, ttl)] = SharedCache(url, ttl)
        return found


def configured() -> tuple[SharedCache | None, str | None]:
    """The shared level the settings name (``TOON_CACHE_URL``, else ``[tool.toon]
    cache-url`` found from the working folder), or None; and a problem to report
    when the settings cannot be read (then: no shared level)."""
    from .config import load_config
    from .errors import ToolError

    try:
        cfg = load_config()
    except ToolError as e:
        return None, f"shared cache not used: {e}"
    url = cfg.cache_url()
    if not url:
        return None, None
    return level_for(url, int(cfg["cache-ttl"])), None


def wait_for(shared: SharedCache, leases: Leases, key: str, lease: str,
             limit: float = WAIT_LIMIT,
             stop: threading.Event | None = None) -> tuple[Any, bool]:
    """Single-flight lookup of ``key`` after a local miss: (value, False) for a
    value found (now or once another machine stored it); (None, True) when this
    process took the lease and must store the value or release it; (None, False)
    when the level is off, the wait ran out (make the call without a lease) or
    ``stop`` is set (the caller gave up: Ctrl-C, a stopped run)."""
    deadline = time.monotonic() + limit
    delay = 0.02
    while True:
        if stop is not None and stop.is_set():
            return None, False
        value = shared.get(key)
        if value is not None or shared.off:
            return value, False
        if leases.take(lease):
            # Its last holder may have stored the value just before releasing.
            value = shared.get(key)
            if value is not None:
                leases.drop(lease)
                return value, False
            return None, True
        if time.monotonic() >= deadline:
            return None, False
        if stop is not None:
            stop.wait(delay)
        else:
            time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
