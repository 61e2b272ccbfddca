"""Counting tokens of texts and files: exact, cached, streamed, parallel.

Exactness when streaming: tiktoken's pre-tokenizer never joins a line break to a
following letter or digit (for every shipped encoding, a piece ending in "\\n"
ends there and "[^\\r\\n...]?\\p{L}" cannot start with one), so a text cut just
after "\\n" where the next character is an ASCII letter or digit counts exactly
as the sum of its parts. Large files are counted chunk by chunk at such cuts, in
bounded memory; a property test checks the sums against whole-text counts.

The counter reads no configuration: its caller gives the cache folder (the CLI
takes it from ``[tool.toon] cache-dir``), else :func:`default_cache_dir`. Uncached
files are counted in a pool when :mod:`toon_tools.parallel` says the batch pays
for one (``Workload`` TOKENS), so ``--jobs`` and ``TOON_TOOLS_JOBS`` mean what
they mean in every command.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..errors import Finding
from .cache import FOLDER, TokenCache, default_cache_dir, key_for
from .vocab import load_encoding

if TYPE_CHECKING:
    import tiktoken

#: Files above this are refused unless the caller raises the limit.
DEFAULT_MAX_FILE_SIZE: Final = 256 * 1024 * 1024
#: Files above this are hashed and counted in chunks instead of read whole.
STREAM_ABOVE: Final = 8 * 1024 * 1024
CHUNK: Final = 4 * 1024 * 1024
#: A stretch without a safe cut longer than this cannot be counted exactly in
#: bounded memory and is refused.
MAX_UNCUT: Final = 64 * 1024 * 1024
#: Files up to KEEP_FILE bytes are kept in memory between hashing and counting
#: (one read instead of two), up to KEEP_BYTES in all.
KEEP_FILE: Final = 256 * 1024
KEEP_BYTES: Final = 64 * 1024 * 1024
_ALNUM: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


class InputError(Finding, ValueError):
    """A file that cannot be counted: binary, not UTF-8, too large (exit 1)."""


class NotUTF8(InputError):
    """Text that is not UTF-8: skipped like a binary file when met in a folder."""


@dataclass
class FileCount:
    path: str
    size: int
    tokens: int | None = None
    cached: bool = False
    error: str | None = None  # why it was not counted
    io_error: bool = False  # the error is the file system's (unreadable, missing)
    binary: bool = False
    #: Not UTF-8 (found by counting; ``error`` says where unless it was skipped).
    not_utf8: bool = False

    @property
    def skipped(self) -> bool:
        """Met in a folder and passed over: binary, or not UTF-8."""
        return (self.binary or self.not_utf8) and self.error is None


def safe_cut(data: bytes, end: int) -> int:
    """The largest index <= end just after a b"\\n" followed by an ASCII letter or
    digit, or -1: a place where token counts add up exactly."""
    i = data.rfind(b"\n", 0, end)
    while i >= 0:
        if i + 1 < len(data) and data[i + 1] in _ALNUM:
            return i + 1
        i = data.rfind(b"\n", 0, i)
    return -1


def _utf8(data: bytes, offset: int = 0) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotUTF8(f"invalid UTF-8 at byte {offset + e.start}") from None


class TokenCounter:
    """Counts tokens with one tiktoken encoding, through an optional disk cache.

    ``cache_dir`` (default: :func:`default_cache_dir`) holds the count cache
    (``tokens/``) and the verified vocabularies (``vocab/``); ``cache=False``
    bypasses the count cache. ``jobs`` is the number of worker processes for
    uncached files (None: ``TOON_TOOLS_JOBS`` or the CPU count; 1: in this
    process). The encoding is loaded only when something has to be counted, so a
    run served entirely from the cache never imports tiktoken.
    """

    def __init__(self, encoding: str = "o200k_base", *, cache_dir: Path | None = None,
                 cache: bool = True, max_file_size: int = DEFAULT_MAX_FILE_SIZE,
                 jobs: int | None = None) -> None:
        from .vocab import VOCABULARIES, VocabularyError

        if encoding not in VOCABULARIES:
            raise VocabularyError(
                f"unknown encoding {encoding!r}; known: {', '.join(sorted(VOCABULARIES))}")
        self.encoding_name = encoding
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.cache = TokenCache(self.cache_dir / FOLDER) if cache else None
        self.max_file_size = max_file_size
        self.jobs = jobs
        self._encoding: tiktoken.Encoding | None = None

    # ------------------------------------------------------------ texts

    @property
    def encoding(self) -> tiktoken.Encoding:
        if self._encoding is None:
            self._encoding = load_encoding(self.encoding_name, self.cache_dir / "vocab")
        return self._encoding

    def count_uncached(self, text: str) -> int:
        """Exactly what ``len(tiktoken.get_encoding(name).encode_ordinary(text))``
        gives: special-token text is counted as ordinary text, as in a file."""
        return len(self.encoding.encode_ordinary(text))

    def count(self, text: str) -> int:
        return self.count_bytes(text.encode("utf-8"))

    def count_bytes(self, data: bytes) -> int:
        """Count UTF-8 bytes (raises InputError if they are not UTF-8)."""
        key = key_for(self.encoding_name, hashlib.sha256(data).hexdigest())
        if self.cache is not None:
            hit = self.cache.get_many([key]).get(key)
            if hit is not None:
                return hit
        n = self._count_data(data)
        if self.cache is not None:
            self.cache.put_many({key: n})
        return n

    def count_input(self, data: bytes, name: str = "-") -> FileCount:
        """Count bytes that are not a file (stdin), recording errors as
        :meth:`count_files` does."""
        fc = FileCount(name, len(data))
        if b"\0" in data:
            fc.binary = True
            fc.error = "binary input (contains NUL bytes), not counted"
            return fc
        try:
            fc.tokens = self.count_bytes(data)
        except InputError as e:
            fc.error = str(e)
        return fc

    def count_many(self, texts: Sequence[str]) -> list[int]:
        datas = [t.encode("utf-8") for t in texts]
        keys = [key_for(self.encoding_name, hashlib.sha256(d).hexdigest()) for d in datas]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        new: dict[str, int] = {}
        out: list[int] = []
        for k, d in zip(keys, datas):
            n = found.get(k)
            if n is None:
                n = new.get(k)
                if n is None:
                    n = new[k] = self._count_data(d)
            out.append(n)
        if self.cache is not None:
            self.cache.put_many(new)
        return out

    def _count_data(self, data: bytes, offset: int = 0) -> int:
        """Count in pieces no larger than CHUNK, cut where counts add up."""
        total = 0
        start = 0
        n = len(data)
        while n - start > CHUNK:
            cut = safe_cut(data, start + CHUNK)
            if cut <= start:
                cut = safe_cut_forward(data, start + CHUNK)
                if cut < 0:
                    break
            total += self.count_uncached(_utf8(data[start:cut], offset + start))
            start = cut
        return total + self.count_uncached(_utf8(data[start:], offset + start))

    # ------------------------------------------------------------ files

    def count_files(self, paths: Iterable[str], *, explicit: frozenset[str] = frozenset(),
                    skip_binary: bool = True) -> list[FileCount]:
        """Count each file; errors are recorded per file, never raised.

        Binary files (a NUL byte) are marked ``binary``, files that are not UTF-8
        ``not_utf8``; when ``skip_binary`` and the path was found by walking (not
        in ``explicit``) that is not an error: the file is :attr:`FileCount.skipped`.
        """
        results: list[FileCount] = []
        misses: dict[str, list[FileCount]] = {}
        keys: dict[int, str] = {}
        kept: dict[str, bytes] = {}  # small files' bytes, read once to hash and to count
        room = KEEP_BYTES
        for path in paths:
            fc = FileCount(path, 0)
            results.append(fc)
            try:
                key, data = self._key_for_file(fc, keep=room > 0)
            except InputError as e:
                fc.error = str(e)
                continue
            except OSError as e:
                fc.error, fc.io_error = e.strerror or str(e), True
                continue
            if fc.binary:
                if path in explicit or not skip_binary:
                    fc.error = "binary file (contains NUL bytes), not counted"
                continue
            keys[id(fc)] = key
            if data is not None and key not in kept:
                kept[key] = data
                room -= len(data)
        found = self.cache.get_many(set(keys.values())) if self.cache is not None else {}
        for fc in results:
            k = keys.get(id(fc))
            if k is None:
                continue
            if k in found:
                fc.tokens, fc.cached = found[k], True
            else:
                misses.setdefault(k, []).append(fc)
        if misses:
            counted = self._count_misses(misses, kept)
            for fcs in misses.values():
                for fc in fcs:
                    if fc.not_utf8 and skip_binary and fc.path not in explicit:
                        fc.error = None
            if self.cache is not None:
                self.cache.put_many({k: n for k, n in counted.items() if n is not None})
        return results

    def _key_for_file(self, fc: FileCount, keep: bool) -> tuple[str, bytes | None]:
        """Stat, size-check, sniff and hash one file (the cheap part of counting);
        with ``keep``, the bytes of a file of at most KEEP_FILE bytes come back too."""
        st = os.stat(fc.path)
        fc.size = st.st_size
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not a regular file")
        if st.st_size > self.max_file_size:
            raise InputError(f"file is {_mb(st.st_size)}, over the {_mb(self.max_file_size)} limit "
                             "(raise it with --max-file-size)")
        digest = hashlib.sha256()
        with open(fc.path, "rb") as fh:
            # A buffer the size of the file, not of STREAM_ABOVE: one byte more
            # tells whether it grew since the stat.
            head = fh.read(min(st.st_size + 1, STREAM_ABOVE))
            if b"\0" in head:
                fc.binary = True
                return "", None
            digest.update(head)
            whole = len(head) <= st.st_size and len(head) < STREAM_ABOVE
            if not whole:
                for block in iter(lambda: fh.read(CHUNK), b""):
                    if b"\0" in block:
                        fc.binary = True
                        return "", None
                    digest.update(block)
        data = head if keep and whole and len(head) <= KEEP_FILE else None
        return key_for(self.encoding_name, digest.hexdigest()), data

    def _count_misses(self, misses: dict[str, list[FileCount]],
                      kept: dict[str, bytes]) -> dict[str, int | None]:
        """Count one file per distinct content; in a pool when the batch pays
        (workers read the files), else here, from ``kept`` bytes where we have them."""
        from ..parallel import TOKENS, executor, pool_size

        todo = [(k, fcs[0].path) for k, fcs in misses.items()]
        volume = sum(fcs[0].size for fcs in misses.values())
        workers = pool_size(TOKENS, len(todo), volume, self.jobs)
        paths = [p for _, p in todo]
        if workers > 1:
            # Loaded before the workers fork: they inherit it instead of each
            # parsing the vocabulary again.
            spec = (self.encoding_name, self.cache_dir, self.max_file_size, self.encoding)
            with executor(workers, _init_worker, spec) as pool:
                outcomes = list(pool.map(_measure_in_worker, paths,
                                         chunksize=max(1, len(paths) // (workers * 8))))
        else:
            outcomes = [self._count_kept(kept[k]) if k in kept else self._measure(p)
                        for k, p in todo]
        counted: dict[str, int | None] = {}
        for (k, _), (n, err, not_utf8) in zip(todo, outcomes):
            counted[k] = n
            for fc in misses[k]:
                fc.tokens, fc.error, fc.not_utf8 = n, err, not_utf8
        return counted

    def _count_kept(self, data: bytes) -> tuple[int | None, str | None, bool]:
        try:
            return self._count_data(data), None, False
        except InputError as e:
            return None, str(e), isinstance(e, NotUTF8)

    def count_path(self, path: str) -> tuple[int | None, str | None]:
        """(tokens, None) or (None, error) for one file, streamed in chunks."""
        n, err, _ = self._measure(path)
        return n, err

    def _measure(self, path: str) -> tuple[int | None, str | None, bool]:
        """:meth:`count_path`, and whether the error is that the file is not UTF-8."""
        try:
            total = 0
            carry = b""
            offset = 0
            with open(path, "rb") as fh:
                while True:
                    block = fh.read(CHUNK)
                    data = carry + block
                    if not block:
                        return total + self.count_uncached(_utf8(data, offset)), None, False
                    cut = safe_cut(data, len(data))
                    if cut <= 0:
                        if len(data) > MAX_UNCUT:
                            raise InputError(f"no line break followed by a letter or digit in "
                                             f"{_mb(MAX_UNCUT)}: cannot count exactly in bounded memory")
                        carry = data
                        continue
                    total += self.count_uncached(_utf8(data[:cut], offset))
                    offset += cut
                    carry = data[cut:]
        except InputError as e:
            return None, str(e), isinstance(e, NotUTF8)
        except OSError as e:
            return None, e.strerror or str(e), False


def safe_cut_forward(data: bytes, start: int) -> int:
    i = data.find(b"\n", start)
    while i >= 0:
        if i + 1 < len(data) and data[i + 1] in _ALNUM:
            return i + 1
        i = data.find(b"\n", i + 1)
    return -1


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


# ------------------------------------------------------------ pool workers

#: Set only inside a pool worker, by its initializer: the counter that worker
#: uses. The parent process never sets it.
_worker_counter: TokenCounter | None = None


def _init_worker(encoding: str, cache_dir: Path, max_file_size: int,
                 loaded: tiktoken.Encoding | None) -> None:
    global _worker_counter
    _worker_counter = TokenCounter(encoding, cache_dir=cache_dir, cache=False,
                                   max_file_size=max_file_size, jobs=1)
    _worker_counter._encoding = loaded  # inherited through fork; None: load it here


def _measure_in_worker(path: str) -> tuple[int | None, str | None, bool]:
    if _worker_counter is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("_measure_in_worker runs only in a pool started by TokenCounter")
    return _worker_counter._measure(path)
