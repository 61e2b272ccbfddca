"""``toon check --watch`` and ``toon twins --watch`` (issue 14 part 4): real
processes, real file writes; each step waits for the output line it causes
(20 s at most: never a wall-clock assertion), and the run ends with a signal."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("watchfiles")

GOOD = "a: 1\n"
BAD = "a[2]: x\n"  # declares 2 items, has 1


def _default_sigint() -> None:
    """In the child: Ctrl-C back to its default. A shell that started this test run in
    the background (POSIX shells ignore SIGINT for `&` jobs) passes the ignore on, and
    Python then never turns SIGINT into KeyboardInterrupt, rightly; these tests send it
    on purpose, as a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watch:
    """``toon ARGS`` in a subprocess; stdout and stderr as one stream of lines."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "toon_tools", *args], cwd=cwd, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env={**os.environ, "TOON_TOOLS_JOBS": "1"},
            preexec_fn=_default_sigint)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: str, timeout: float = 20) -> list[str]:
        """The lines up to and including the first that matches ``pattern``."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got {got}") from None
            if line is None:
                raise AssertionError(f"exited before {pattern!r}; got {got}")
            got.append(line)
            self.seen.append(line)
            assert "Traceback" not in line, "\n".join(got)
            if re.search(pattern, line):
                return got

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        rest: list[str] = []
        while (line := self.lines.get(timeout=20)) is not None:
            rest.append(line)
        text = "\n".join(rest)
        assert "Traceback" not in text, text
        return code, text


def atomic_save(path: Path, text: str) -> None:
    """What vim does by default: probe with 4913, keep a ~ backup, write the
    new content elsewhere and rename it over the target."""
    probe = path.parent / "4913"
    probe.write_text("")
    probe.unlink()
    shutil.copy(path, path.parent / (path.name + "~"))
    temp = path.parent / f".{path.name}.swp"
    temp.write_text(text)
    os.replace(temp, path)


def test_check_watch_runs_on_saves_survives_bad_files_and_stops_on_ctrl_c(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.toon").write_text(GOOD)
    (data / "skip").mkdir()
    w = Watch("check", "--watch", "data", cwd=tmp_path)
    w.expect(r"All good: 1 file checked")
    w.expect(r"watching data for changes")

    (data / "a.toon").write_text(BAD)  # a run that exits 1 keeps watching
    got = w.expect(r"^data/a\.toon:1:")
    assert any(re.search(r"\] changed: data/a\.toon$", line) for line in got), got

    atomic_save(data / "a.toon", GOOD)  # the editor's side files are not .toon files
    got = w.expect(r"All good: 1 file checked")
    headers = [line for line in got if "changed:" in line]
    assert headers and all(h.endswith("changed: data/a.toon") for h in headers), got

    for i in range(5):  # a burst: coalesced, though CI load may split it in two
        (data / f"b{i}.toon").write_text(GOOD)
    burst = {f"data/b{i}.toon" for i in range(5)}
    named: set[str] = set()
    runs = 0
    while named != burst:  # await every file, however many runs that takes
        got = w.expect(r"All good: \d+ files? checked")
        for line in got:
            if m := re.search(r"\] changed: (.*)$", line):
                named |= set(m.group(1).split(", "))
        runs += 1
        assert named <= burst, got
    assert runs < 5, "five quick saves were never coalesced"

    (data / "c.toon").write_text("x: \"open\n")  # a second bad file, then a fix
    w.expect(r"^data/c\.toon:1:")
    (data / "c.toon").write_text(GOOD)
    w.expect(r"All good: 1 file checked")

    code, rest = w.stop(signal.SIGINT)
    assert code == 0, rest
    assert "stopped watching" in rest


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_check_watch_runs_on_what_check_would_find_not_through_linked_folders(
        tmp_path: Path) -> None:
    """`toon check data` does not walk into a linked folder (os.walk does not
    follow links), but the watch (notify follows them) re-checked a save there."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.toon").write_text(GOOD)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "r.toon").write_text(GOOD)
    (tmp_path / "data" / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    w = Watch("check", "--watch", "data", cwd=tmp_path)
    w.expect(r"All good: 1 file checked")
    w.expect(r"watching data for changes")
    (tmp_path / "elsewhere" / "r.toon").write_text(BAD)
    (tmp_path / "data" / "a.toon").write_text(BAD)
    got = w.expect(r"^data/a\.toon:1:")
    assert not any("link" in line for line in got), got
    code, rest = w.stop()
    assert code == 0 and "link" not in rest, rest


def test_check_watch_survives_its_folder_deleted_and_made_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.toon").write_text(GOOD)
    w = Watch("check", "--watch", "out", cwd=tmp_path)
    w.expect(r"watching out for changes")

    shutil.rmtree(out)
    w.expect(r"deleted: out/a\.toon")
    out.mkdir()  # watched through its parent while it was gone
    (out / "b.toon").write_text(BAD)
    w.expect(r"^out/b\.toon:1:")

    shutil.rmtree(out)  # rm -rf out && mkdir out: a new folder under the old name
    out.mkdir()
    (out / "c.toon").write_text(BAD)
    w.expect(r"^out/c\.toon:1:")
    (out / "c.toon").write_text(GOOD)  # and the new folder is watched
    w.expect(r"All good: 1 file checked")

    code, rest = w.stop(signal.SIGTERM)
    assert code == 0, rest


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_twins_watch_writes_twins_without_looping_on_them(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.toon").write_text(GOOD)
    (tmp_path / "b.toon").write_text(GOOD)
    w = Watch("twins", "--watch", cwd=tmp_path)  # no FILES: the git work tree
    w.expect(r"watching .* for changes")

    (tmp_path / "a.toon").write_text("a: 2\n")
    w.expect(r"^created twin a\.md$")
    # The twin it wrote starts no run: the next header is the next save's.
    (tmp_path / "b.toon").write_text("b: 3\n")
    got = w.expect(r"^created twin b\.md$")
    headers = [line for line in got if re.search(r"\] (changed|deleted):", line)]
    assert len(headers) == 1 and headers[0].endswith("changed: b.toon"), got

    # A hand edit of a twin: regenerated from its source, as `toon twins a.md` does.
    twin = tmp_path / "a.md"
    twin.write_text(twin.read_text() + "hand edit\n")
    got = w.expect(r"^updated twin a\.md$")
    assert any(line.endswith("changed: a.md") for line in got), got

    (tmp_path / "b.toon").unlink()  # its twin is an orphan now
    w.expect(r"^removed orphaned twin b\.md$")
    assert not (tmp_path / "b.md").exists()

    (tmp_path / "a.toon").write_text("a[2]: x\n")  # invalid source: reported, still watching
    w.expect(r"^a\.toon:1:")
    (tmp_path / "a.toon").write_text("a: 5\n")
    w.expect(r"^updated twin a\.md$")

    code, rest = w.stop(signal.SIGINT)
    assert code == 0, rest


def test_watch_without_watchfiles_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "a.toon").write_text(GOOD)
    program = ("import sys; sys.modules['watchfiles'] = None\n"
               "from toon_tools.cli.main import main\n"
               "main(['check', '--watch', 'a.toon'])\n")
    proc = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "toon: error: --watch needs watchfiles: pip install 'toon-tools[watch]'"]
    assert proc.stdout == ""


def test_twins_watch_refuses_add(tmp_path: Path) -> None:
    from tests.cli.conftest import run_toon

    result = run_toon("twins", "--watch", "--add", cwd=tmp_path)
    assert result.code == 2
    assert "--watch cannot be used with --add" in result.err


@pytest.mark.parametrize("args", [("check", "--watch", "-"),
                                  ("check", "--watch", "--stdin-filename", "a.toon")])
def test_watch_refuses_stdin(tmp_path: Path, args: tuple[str, ...]) -> None:
    # stdin is read once: watching it would wait forever for a save that never comes.
    from tests.cli.conftest import run_toon

    result = run_toon(*args, stdin="a: 1\n", cwd=tmp_path)
    assert result.code == 2
    assert "--watch cannot be used with stdin" in result.err
    assert result.out == ""


def test_check_watch_json_prints_one_document_per_run_on_one_line(tmp_path: Path) -> None:
    import json

    (tmp_path / "a.toon").write_text(GOOD)
    w = Watch("check", "--watch", "--format", "json", "a.toon", cwd=tmp_path)
    first = w.expect(r"^\[(?!\d\d:)")  # not a header: JSON Lines, a document a line
    assert json.loads(first[-1]) == []
    w.expect(r"watching a\.toon for changes")
    (tmp_path / "a.toon").write_text(BAD)
    doc = json.loads(w.expect(r"^\[(?!\d\d:)")[-1])
    assert [(d["path"], d["line"], d["code"]) for d in doc] == [("a.toon", 1, "count")]
    code, rest = w.stop()
    assert code == 0, rest
