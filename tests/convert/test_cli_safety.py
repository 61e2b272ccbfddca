"""``toon convert`` never destroys what the user wrote, honours ``exclude``, and
reports every bad input in one line while the other files are still converted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import toon_tools
from tests.cli.conftest import run_toon
from toon_tools.convert.twin_render import to_markdown

NOT_OURS = "exists and was not written by toon-tools; use --force to replace it"
HAND_WRITTEN = b"# My notes\n\nWritten by hand, \xe2\x9c\x8d no header.\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


# -- -o OUT --------------------------------------------------------------------

def test_output_that_is_not_ours_needs_force(tmp_path: Path) -> None:
    src = write(tmp_path / "d.json", '{"a": 1}')
    out = write(tmp_path / "d.toon", b"mine: true\n")
    r = run_toon("convert", str(src), "-o", str(out))
    assert (r.code, r.out, r.err) == (1, "", f"toon: error: {out}: {NOT_OURS}\n")
    assert out.read_bytes() == b"mine: true\n"
    r = run_toon("convert", str(src), "-o", str(out), "--force")
    assert (r.code, r.err) == (0, f"wrote {src} -> {out}\n")
    assert out.read_bytes() == b"a: 1\n"


def test_rerun_onto_the_same_result_is_a_no_op(tmp_path: Path) -> None:
    src = write(tmp_path / "d.json", '{"a": 1}')
    out = write(tmp_path / "d.toon", b"a: 1\n")
    out.chmod(0o444)  # not even opened for writing
    r = run_toon("convert", str(src), "-o", str(out))
    assert (r.code, r.err) == (0, f"unchanged {src} -> {out}\n")
    assert out.read_bytes() == b"a: 1\n"


def test_a_twin_of_this_source_is_ours_and_is_replaced(tmp_path: Path) -> None:
    src = write(tmp_path / "notes.toon", "a: 1\n")
    out = tmp_path / "notes.md"
    assert run_toon("convert", str(src), "-o", str(out)).code == 0
    first = out.read_bytes()
    write(src, "a: 2\n")
    r = run_toon("convert", str(src), "-o", str(out))
    assert r.code == 0, r.err
    assert out.read_bytes() != first and b"**a**: 2" in out.read_bytes()


def test_a_twin_naming_the_source_by_a_relative_path_is_ours(tmp_path: Path) -> None:
    src = write(tmp_path / "data" / "notes.toon", "a: 1\n")
    out = write(tmp_path / "docs" / "notes.md",
                to_markdown({"a": 0}, "../data/notes.toon", b"a: 0\n") + "\n")
    r = run_toon("convert", str(src), "-o", str(out))
    assert r.code == 0, r.err
    assert toon_tools.decode(run_toon("convert", "--from", "md", "-", stdin=out.read_text()).out) \
        == {"a": 1}


def test_a_twin_of_another_source_is_not_ours(tmp_path: Path) -> None:
    src = write(tmp_path / "notes.toon", "a: 1\n")
    twin = to_markdown({"b": 2}, "other.toon", b"b: 2\n") + "\n"
    out = write(tmp_path / "notes.md", twin)
    r = run_toon("convert", str(src), "-o", str(out))
    assert (r.code, r.err) == (1, f"toon: error: {out}: {NOT_OURS}\n")
    assert out.read_text() == twin


def test_a_failed_conversion_leaves_the_output_alone_even_with_force(tmp_path: Path) -> None:
    src = write(tmp_path / "d.json", '{"a": ')
    out = write(tmp_path / "d.toon", b"keep: me\n")
    assert run_toon("convert", str(src), "-o", str(out), "--force").code == 1
    assert out.read_bytes() == b"keep: me\n"


# -- folders -------------------------------------------------------------------

def test_folder_never_overwrites_a_hand_written_file(tmp_path: Path) -> None:
    # notes.toon is what notes.md converts to, so it is notes.md's output, not a
    # source: it exists, is not ours and differs, so it is refused.
    notes_toon = write(tmp_path / "notes.toon", b"title: mine\n")
    notes_md = write(tmp_path / "notes.md", HAND_WRITTEN)
    write(tmp_path / "other.json", '{"x": 1}')
    r = run_toon("convert", str(tmp_path))
    assert r.code == 1
    errors = [line for line in r.err.splitlines() if line.startswith("toon: error:")]
    assert errors == [f"toon: error: {notes_toon}: {NOT_OURS}"]
    assert f"wrote {tmp_path / 'other.json'} -> {tmp_path / 'other.toon'}\n" in r.err
    assert notes_toon.read_bytes() == b"title: mine\n"
    assert notes_md.read_bytes() == HAND_WRITTEN
    assert (tmp_path / "other.toon").read_bytes() == b"x: 1\n"


def test_folder_force_replaces_the_output_and_never_the_source(tmp_path: Path) -> None:
    notes_toon = write(tmp_path / "notes.toon", b"title: mine\n")
    notes_md = write(tmp_path / "notes.md", HAND_WRITTEN)
    r = run_toon("convert", str(tmp_path), "--force")
    assert (r.code, r.err) == (0, f"wrote {notes_md} -> {notes_toon}\n")
    assert notes_md.read_bytes() == HAND_WRITTEN
    assert notes_toon.read_bytes() != b"title: mine\n"


def test_named_force_onto_another_source_is_refused_before_anything(tmp_path: Path) -> None:
    notes_toon = write(tmp_path / "notes.toon", b"title: mine\n")
    notes_md = write(tmp_path / "notes.md", HAND_WRITTEN)
    r = run_toon("convert", str(notes_md), str(notes_toon), "--force")  # named: both sources
    assert r.code == 2 and r.err.count("\n") == 1
    assert "is a source and also the output of" in r.err
    assert notes_md.read_bytes() == HAND_WRITTEN
    assert notes_toon.read_bytes() == b"title: mine\n"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``folder``: its bytes and mtime."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args", [["."], ["*"], [".", "--out-dir", "out"]])
def test_a_folder_or_glob_rerun_changes_nothing(tmp_path: Path, args: list[str]) -> None:
    write(tmp_path / "a.json", '{"a":1}')
    write(tmp_path / "b.md", "# Hi\n\ntext\n")
    write(tmp_path / "c.toon", "c: 1\n")
    out = tmp_path / "out" if "--out-dir" in args else tmp_path
    r = run_toon("convert", *args, cwd=tmp_path)
    assert r.code == 0, r.err
    assert r.err.count("wrote ") == 3 and "error" not in r.err
    assert (out / "a.toon").read_bytes() == b"a: 1\n"
    assert (out / "b.toon").exists() and (out / "c.md").exists()
    assert not (out / "a.md").exists() and not (out / "b.md.md").exists()
    before = snapshot(tmp_path)
    for _ in range(2):
        r = run_toon("convert", *args, cwd=tmp_path)
        assert r.code == 0, r.err
        assert r.err.count("unchanged ") == 3 and r.err.count("\n") == 3, r.err
        assert snapshot(tmp_path) == before  # no byte, no mtime, no new file


def test_a_folder_source_and_its_existing_output_of_another_format(tmp_path: Path) -> None:
    # --to json: a.json is what a.toon converts to, so it is an output, not a source.
    toon = write(tmp_path / "a.toon", "a: 1\n")
    write(tmp_path / "a.json", '{\n  "a": 1\n}\n')
    r = run_toon("convert", ".", "--to", "json", cwd=tmp_path)
    assert (r.code, r.err) == (0, "unchanged ./a.toon -> a.json\n")
    assert toon.read_bytes() == b"a: 1\n"


# -- what stands in an output's place --------------------------------------------

def _directory(p: Path) -> None:
    p.mkdir()


def _dangling(p: Path) -> None:
    p.symlink_to("nowhere")


def _link_to_file(p: Path) -> None:
    write(p.parent / "real.txt", HAND_WRITTEN)
    p.symlink_to("real.txt")


def _fifo(p: Path) -> None:
    os.mkfifo(p)


@pytest.mark.parametrize(("make", "kind"), [
    (_directory, "a folder"), (_dangling, "a symbolic link"),
    (_link_to_file, "a symbolic link"), (_fifo, "a special file")])
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_non_file_in_an_output_place_is_not_ours(tmp_path: Path, make, kind: str,  # type: ignore[no-untyped-def]
                                                   force: list[str]) -> None:
    write(tmp_path / "s2.json", '{"b": 2}')
    out = tmp_path / "s2.toon"
    make(out)
    link = os.readlink(out) if out.is_symlink() else None
    message = f"toon: error: s2.toon: exists and is {kind}; toon-tools leaves it as it is\n"
    for args in (["."], ["s2.json", "-o", "s2.toon"]):
        r = run_toon("convert", *args, *force, cwd=tmp_path)
        assert (r.code, r.out, r.err) == (1, "", message), args
        assert out.is_symlink() or (out.exists() and not out.is_file())  # left as it is
        assert (os.readlink(out) if out.is_symlink() else None) == link
    if (tmp_path / "real.txt").exists():
        assert (tmp_path / "real.txt").read_bytes() == HAND_WRITTEN


def test_a_folder_named_like_the_twin(tmp_path: Path) -> None:
    src = write(tmp_path / "s1.toon", "a: 1\n")
    (tmp_path / "s1.md").mkdir()
    r = run_toon("convert", ".", cwd=tmp_path)
    assert (r.code, r.err) == (
        1, "toon: error: s1.md: exists and is a folder; toon-tools leaves it as it is\n")
    assert src.read_bytes() == b"a: 1\n" and (tmp_path / "s1.md").is_dir()


def test_a_glob_never_takes_a_folder_for_a_source(tmp_path: Path) -> None:
    (tmp_path / "dir.md").mkdir()
    src = write(tmp_path / "x.md", "# X\n")
    r = run_toon("convert", "*.md", cwd=tmp_path)
    assert (r.code, r.err) == (0, "wrote x.md -> x.toon\n")
    assert src.read_bytes() == b"# X\n"


def test_folder_skips_generated_twins_as_sources(tmp_path: Path) -> None:
    src = write(tmp_path / "a.toon", b"a: 2\n")
    stale = to_markdown({"a": 1}, "a.toon", b"a: 1\n") + "\n"
    twin = write(tmp_path / "a.md", stale)
    r = run_toon("convert", str(tmp_path))
    assert (r.code, r.err) == (0, f"wrote {src} -> {twin}\n")  # one job: a.md is no source
    assert src.read_bytes() == b"a: 2\n"
    assert twin.read_text().startswith("<!-- toon-tools twin of a.toon ")
    assert run_toon("convert", str(tmp_path)).err == f"unchanged {src} -> {twin}\n"
    # Named explicitly, a twin converts back, as always.
    r = run_toon("convert", str(twin), "--to", "toon")
    assert (r.code, r.out) == (0, "a: 2\n")


def test_two_sources_for_one_output_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "a.json", "[1]")
    write(tmp_path / "a.jsonl", "1\n")
    r = run_toon("convert", str(tmp_path))
    assert r.code == 2 and "would both be written to" in r.err and r.err.count("\n") == 1
    assert not (tmp_path / "a.toon").exists()


# -- exclude -------------------------------------------------------------------

def test_exclude_applies_to_folders_and_globs_and_to_explicit_files_when_forced(
        tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.toon]\nexclude = ["vendor/", "*.gen.json"]\n')
    write(tmp_path / "src" / "a.json", '{"a": 1}')
    write(tmp_path / "src" / "b.gen.json", '{"b": 1}')
    write(tmp_path / "vendor" / "c.json", '{"c": 1}')
    r = run_toon("convert", ".", "--out-dir", "out", cwd=tmp_path)
    assert r.code == 0, r.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.toon"]
    r = run_toon("convert", "**/*.json", "--out-dir", "out2", cwd=tmp_path)
    assert r.code == 0 and sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["a.toon"]
    r = run_toon("convert", "vendor/c.json", cwd=tmp_path)  # named: converted
    assert (r.code, r.out) == (0, "c: 1\n")
    r = run_toon("convert", "vendor/c.json", "src/b.gen.json", "--force-exclude", cwd=tmp_path)
    assert (r.code, r.out, r.err) == (0, "", NOTHING)
    assert not (tmp_path / "vendor" / "c.toon").exists()


NOTHING = "toon: warning: no files to convert\n"


def test_nothing_to_convert_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.toon]\nexclude = ["vendor/"]\n')
    write(tmp_path / "vendor" / "c.json", '{"c": 1}')
    write(tmp_path / "readme.txt", "no format")
    (tmp_path / "empty").mkdir()
    for args in (["vendor"], ["vendor/*.json"], ["empty"], ["."]):
        r = run_toon("convert", *args, cwd=tmp_path)
        assert (r.code, r.out, r.err) == (0, "", NOTHING), args
    assert sorted(p.name for p in tmp_path.rglob("*")) == \
        ["c.json", "empty", "pyproject.toml", "readme.txt", "vendor"]


def test_a_wrong_type_in_tool_toon_is_exit_2_before_any_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.toon]\nexclude = 3\n")
    write(tmp_path / "a.json", '{"a": 1}')
    for args in (["--stats", "a.json", "-o", "a.toon"], ["a.json", "-o", "a.toon"]):
        r = run_toon("convert", *args, cwd=tmp_path)
        assert r.code == 2 and r.err.count("\n") == 1, r.err
        assert "pyproject.toml" in r.err and "'exclude': expected a list of strings" in r.err
        assert not (tmp_path / "a.toon").exists()


# -- bad input: one line each, exit 1, the others still converted ---------------

@pytest.mark.parametrize(("name", "content", "where"), [
    ("s.json", '{"a": "\\ud800"}', "s.json:1:8: lone surrogate \\ud800"),
    ("s.json", '{"a": "x\\udc00y"}', "s.json:1:9: lone surrogate \\udc00"),
    ("s.jsonl", '{"ok": 1}\n["\\udfff"]\n', "s.jsonl:2:3: lone surrogate \\udfff"),
    ("n.json", '{\n  "n": ' + "1" * 5000 + "\n}\n", "n.json:2:8: integer with 5,000 digits"),
    ("d.json", "[" * 50_000 + "]" * 50_000, "d.json:1:"),
    ("f.json", '{"a": "1e999",\n "b": 1e999}', "f.json:2:7: number is out of the range of a "
                                             "float: 1e999"),
    ("f.json", '[1, -Infinity]', "f.json:1:5: invalid JSON: -Infinity is not a JSON number"),
    ("f.jsonl", '{"ok": 1}\n{"x": [NaN]}\n', "f.jsonl:2:8: invalid JSON: NaN is not a JSON number"),
])
def test_bad_json_among_good_files(tmp_path: Path, name: str, content: str, where: str) -> None:
    bad = write(tmp_path / "in" / name, content)
    good = write(tmp_path / "in" / "good.json", '{"ok": true}')
    r = run_toon("convert", str(bad), str(good))
    assert r.code == 1
    errors = [line for line in r.err.splitlines() if line.startswith("toon: error:")]
    assert errors == [errors[0]] and errors[0].startswith(f"toon: error: {tmp_path}/in/{where}")
    assert (tmp_path / "in" / "good.toon").read_bytes() == b"ok: true\n"
    assert not (tmp_path / "in" / (Path(name).stem + ".toon")).exists()


@pytest.mark.parametrize("body", ['"', '"":'])
def test_a_twin_header_over_a_broken_body(tmp_path: Path, body: str) -> None:
    header = to_markdown({}, "x.toon", b"").split("\n", 1)[0]
    md = write(tmp_path / "x.md", f"{header}\n\n{body}\n")
    r = run_toon("convert", "--to", "toon", str(md))
    assert r.code == 1 and r.out == ""
    assert r.err.startswith(f"toon: error: {md}:3: ") and r.err.count("\n") == 1
    assert r.err.endswith("(a twin's values are TOON tokens)\n")


def test_hostile_file_names_are_escaped(tmp_path: Path) -> None:
    write(tmp_path / "evil\x1b[2J\nname.json", '{"a": 1}')
    write(tmp_path / "bad\x07.json", "{")
    r = run_toon("convert", str(tmp_path), "--out-dir", str(tmp_path / "out"))
    assert r.code == 1
    assert "evil\\x1b[2J\\nname.json ->" in r.err and "bad\\x07.json:1:2: invalid JSON" in r.err
    assert "\x1b" not in r.err and "\x07" not in r.err


# -- PDF -----------------------------------------------------------------------

def test_pdf_output_is_pure_toon_and_stderr_is_silent(tmp_path: Path) -> None:
    pytest.importorskip("pymupdf")
    from tests.convert.pdfs import make_report

    pdf = write(tmp_path / "r.pdf", make_report(pages=2))
    r = run_toon("convert", str(pdf))
    assert (r.code, r.err) == (0, "")
    assert r.out.startswith("source: ") and toon_tools.decode(r.out)["pages"][0]["page"] == 1
    bad = write(tmp_path / "bad.pdf", b"%PDF-1.7\n garbage garbage")
    r = run_toon("convert", str(bad))
    assert (r.code, r.out) == (1, "")
    assert r.err == f"toon: error: {bad}: corrupt PDF (Failed to open stream)\n"


# -- the command line ----------------------------------------------------------

def test_every_option_has_help_and_choices_come_from_the_registry() -> None:
    import click

    from toon_tools.cli.commands.convert import convert
    from toon_tools.convert.registry import converters

    ctx = click.Context(convert)
    for param in convert.params:
        if isinstance(param, click.Option):
            assert param.help, param.name
    by_name = {p.name: p for p in convert.params}
    pairs = converters()
    assert list(by_name["source_format"].type.choices) == sorted({s for s, _ in pairs})
    assert list(by_name["target_format"].type.choices) == sorted({t for _, t in pairs})
    text = convert.get_help(ctx)
    for (src, dst), cls in pairs.items():
        assert f"{src} -> {dst}" in text and cls.output_suffix in text


def test_checkpoint_through_convert_by_its_input_kind(tmp_path: Path) -> None:
    r = run_toon("convert", "--from", "checkpoint", str(tmp_path), "--out-dir", str(tmp_path))
    assert r.code == 2 and "not a git repository" in r.err and r.err.count("\n") == 1
    assert r.out == ""
