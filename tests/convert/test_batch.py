"""The batch logic of ``toon convert``, in process: which files are sources, where
outputs go, when an existing output may be replaced, and how ``jobs`` reaches a
converter. The command's end-to-end behaviour is pinned in test_cli*.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from toon_tools.codec import encode
from toon_tools.convert import registry
from toon_tools.convert.batch import (NOT_OURS, Job, find_sources, is_generated, may_write,
                                      plan, reads_stdin, run, run_job)
from toon_tools.convert.twin_render import to_markdown
from toon_tools.errors import Finding, ToolError

HAND_WRITTEN = b"# My notes\n\nWritten by hand.\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def twin_job(tmp_path: Path, output: Path, force: bool = False) -> tuple[Job, bytes, str]:
    """A toon -> md job for ``notes.toon`` and the twin it would write."""
    src = write(tmp_path / "notes.toon", "a: 1\n")
    text = to_markdown({"a": 1}, "notes.toon", b"a: 1\n")
    return Job(str(src), "toon", "md", str(output), force), (text + "\n").encode(), text


# -- the may-replace rule --------------------------------------------------------

def test_a_missing_output_may_be_written(tmp_path: Path) -> None:
    job, payload, text = twin_job(tmp_path, tmp_path / "notes.md")
    assert may_write(job, payload, text) is True


def test_an_output_that_already_holds_the_result_is_left_alone(tmp_path: Path) -> None:
    job, payload, text = twin_job(tmp_path, tmp_path / "notes.md")
    write(tmp_path / "notes.md", payload)
    assert may_write(job, payload, text) is False


def test_a_twin_of_this_source_is_ours(tmp_path: Path) -> None:
    job, payload, text = twin_job(tmp_path, tmp_path / "notes.md")
    write(tmp_path / "notes.md", to_markdown({"a": 0}, "notes.toon", b"a: 0\n") + "\n")
    assert may_write(job, payload, text) is True


def test_a_twin_naming_this_source_by_a_path_from_its_folder_is_ours(tmp_path: Path) -> None:
    src = write(tmp_path / "data" / "notes.toon", "a: 1\n")
    out = write(tmp_path / "docs" / "notes.md",
                to_markdown({"a": 0}, "../data/notes.toon", b"a: 0\n") + "\n")
    text = to_markdown({"a": 1}, "notes.toon", b"a: 1\n")
    assert may_write(Job(str(src), "toon", "md", str(out)), (text + "\n").encode(), text)


@pytest.mark.parametrize("current", [
    to_markdown({"b": 2}, "other.toon", b"b: 2\n") + "\n",  # a twin of another source
    HAND_WRITTEN.decode(),  # no header at all
    "<!-- toon-tools twin of notes.toon but not a real header -->\n",
])
def test_anything_else_is_not_ours_unless_forced(tmp_path: Path, current: str) -> None:
    out = write(tmp_path / "notes.md", current)
    job, payload, text = twin_job(tmp_path, out)
    with pytest.raises(Finding) as caught:
        may_write(job, payload, text)
    assert (caught.value.message, caught.value.path, caught.value.exit_code) == \
        (NOT_OURS, str(out), 1)
    job.force = True
    assert may_write(job, payload, text) is True
    assert out.read_text() == current  # deciding never writes


def test_a_twin_of_a_source_that_is_gone_is_not_ours(tmp_path: Path) -> None:
    out = write(tmp_path / "docs" / "notes.md",
                to_markdown({"a": 0}, "../data/gone.toon", b"a: 0\n") + "\n")
    job, payload, text = twin_job(tmp_path, out)
    with pytest.raises(Finding):
        may_write(job, payload, text)


def test_run_job_refuses_and_keeps_the_bytes_then_writes_with_force(tmp_path: Path) -> None:
    src = write(tmp_path / "d.json", '{"a": 1}')
    out = write(tmp_path / "d.toon", HAND_WRITTEN)
    outcome = run_job(Job(str(src), "json", "toon", str(out)))
    assert outcome.status == 1 and isinstance(outcome.error, Finding)
    assert (outcome.error.message, outcome.error.path) == (NOT_OURS, str(out))
    assert out.read_bytes() == HAND_WRITTEN and not outcome.written
    outcome = run_job(Job(str(src), "json", "toon", str(out), force=True))
    assert (outcome.error, outcome.written, outcome.source_bytes) == (None, True, 8)
    assert out.read_bytes() == b"a: 1\n"
    outcome = run_job(Job(str(src), "json", "toon", str(out)))  # now identical: a no-op
    assert (outcome.status, outcome.written) == (0, False)


def test_run_job_reports_bad_input_and_names_the_output_on_write_errors(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.json", '{"a": ')
    outcome = run_job(Job(str(bad), "json", "toon", "-"))
    assert outcome.status == 1 and isinstance(outcome.error, ToolError)
    assert (outcome.error.path, outcome.error.line) == (str(bad), 1)
    src = write(tmp_path / "d.json", '{"a": 1}')
    missing = tmp_path / "nope" / "d.toon"
    outcome = run_job(Job(str(src), "json", "toon", str(missing)))
    assert outcome.status == 2 and isinstance(outcome.error, FileNotFoundError)
    assert outcome.error.filename == str(missing)
    assert sorted(tmp_path.iterdir()) == [bad, src]  # no temporary file left behind


# -- planning --------------------------------------------------------------------

def test_two_sources_for_one_output_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", "[1]")
    b = write(tmp_path / "a.jsonl", "1\n")
    with pytest.raises(ToolError, match="would both be written to") as caught:
        plan([str(a), str(b)])
    assert caught.value.exit_code == 2
    with pytest.raises(ToolError, match="would both be written to"):
        plan([str(a), str(b)], out_dir=str(tmp_path / "out"))


def test_an_output_that_is_the_source_is_refused(tmp_path: Path) -> None:
    src = write(tmp_path / "d.toon", "a: 1\n")
    with pytest.raises(ToolError, match="the output would overwrite the source") as caught:
        plan([str(src)], target_format="toon", output=str(src))
    assert caught.value.path == str(src)


def test_with_force_an_output_may_not_be_another_source_of_the_run(tmp_path: Path) -> None:
    toon = write(tmp_path / "notes.toon", "a: 1\n")
    md = write(tmp_path / "notes.md", HAND_WRITTEN)
    jobs = plan([str(md), str(toon)], beside=True)  # each would replace the other: refused later
    assert [(j.source, j.output) for j in jobs] == [(str(md), str(toon)), (str(toon), str(md))]
    with pytest.raises(ToolError, match="is a source and also the output of"):
        plan([str(md), str(toon)], force=True, beside=True)


def test_in_folders_a_file_another_source_writes_is_an_output_not_a_source() -> None:
    def run_of(sources: list[str], **kw: object) -> list[tuple[str, str]]:
        return [(j.source, j.output) for j in plan(sources, beside=True, walked=set(sources),
                                                   **kw)]  # type: ignore[arg-type]

    # a.toon is a.json's output; b.toon and b.md write each other: the
    # conversion to TOON wins, so b.toon is b.md's output.
    assert run_of(["d/a.json", "d/a.toon", "d/b.md", "d/b.toon", "d/c.toon"]) == \
        [("d/a.json", "d/a.toon"), ("d/b.md", "d/b.toon"), ("d/c.toon", "d/c.md")]
    assert run_of(["d/b.toon", "d/b.md"]) == [("d/b.md", "d/b.toon")]  # order does not decide
    # a.json is what a.toon converts to with --to json: an output (its own job
    # would overwrite itself).
    assert run_of(["d/a.json", "d/a.toon"], target_format="json") == [("d/a.toon", "d/a.json")]
    # With --out-dir, the outputs of a previous run inside the folder drop out.
    assert run_of(["a.json", "o/a.toon", "o/b.toon"], out_dir="o") == \
        [("a.json", "o/a.toon"), ("o/b.toon", "o/b.md")]
    # Named files are sources as given.
    jobs = plan(["d/a.json", "d/a.toon"], beside=True, walked={"d/a.json"})
    assert [(j.source, j.output) for j in jobs] == [("d/a.json", "d/a.toon"),
                                                     ("d/a.toon", "d/a.md")]


def test_in_folders_two_sources_for_one_output_are_still_refused() -> None:
    # a.toon is an output (of both); a.json and a.md would both write it.
    with pytest.raises(ToolError, match="would both be written to"):
        plan(["a.json", "a.md", "a.toon"], beside=True, walked={"a.json", "a.md", "a.toon"})


def test_usage_errors_in_planning() -> None:
    with pytest.raises(ToolError, match="-o names one output file"):
        plan(["a.json", "b.json"], output="x.toon")
    with pytest.raises(ToolError, match=r"unknown format; say --from \(") as caught:
        plan(["notes.txt"])
    assert caught.value.path == "notes.txt"
    with pytest.raises(ToolError, match="unknown format"):
        plan(["-"])  # stdin has no suffix


def test_where_outputs_go(tmp_path: Path) -> None:
    one = plan(["d/a.json"])
    assert [(j.source_format, j.target_format, j.output) for j in one] == [("json", "toon", "-")]
    assert [j.output for j in plan(["d/a.json"], beside=True)] == ["d/a.toon"]
    assert [j.output for j in plan(["d/a.json", "e/b.toon"])] == ["d/a.toon", "e/b.md"]
    assert [j.output for j in plan(["d/a.json"], out_dir="o")] == ["o/a.toon"]
    assert [(j.target_format, j.output) for j in plan(["d/a.toon"], output="x.json")] == \
        [("json", "x.json")]
    assert [j.output for j in plan(["-"], source_format="json")] == ["-"]


# -- which files -------------------------------------------------------------------

def test_folders_and_globs_drop_excluded_files_and_generated_twins(tmp_path: Path) -> None:
    write(tmp_path / "a.toon", "a: 1\n")
    twin = write(tmp_path / "a.md", to_markdown({"a": 1}, "a.toon", b"a: 1\n") + "\n")
    notes = write(tmp_path / "notes.md", HAND_WRITTEN)
    vendor = write(tmp_path / "vendor.json", "{}")
    write(tmp_path / "readme.txt", "no format")
    assert is_generated(str(twin)) and not is_generated(str(notes))

    def excluded(p: str) -> bool:
        return p.endswith("vendor.json")

    found = find_sources([str(tmp_path)], None, excluded)
    assert found == ([str(tmp_path / "a.toon"), str(notes)], True,
                     {str(tmp_path / "a.toon"), str(notes)})
    assert find_sources([str(tmp_path / "*.json")], None, excluded) == ([], True, set())
    # Named explicitly: kept (a twin converts back), unless force_exclude drops it.
    assert find_sources([str(twin), str(vendor), str(tmp_path)], None, excluded) == \
        ([str(twin), str(vendor), str(tmp_path / "a.toon"), str(notes)], True,
         {str(tmp_path / "a.toon"), str(notes)})
    assert find_sources([str(vendor)], None, excluded, force_exclude=True) == ([], False, set())
    assert find_sources(["-"], "json", excluded) == (["-"], False, set())


def test_folders_and_globs_take_only_regular_files(tmp_path: Path) -> None:
    (tmp_path / "dir.md").mkdir()
    (tmp_path / "gone.md").symlink_to("nowhere")
    os.mkfifo(tmp_path / "pipe.md")  # never opened: it would block
    real = write(tmp_path / "real.md", "# R\n")
    (tmp_path / "link.md").symlink_to("real.md")
    want = [str(tmp_path / "link.md"), str(real)]
    assert find_sources([str(tmp_path)], None, lambda p: False)[0] == want
    assert find_sources([str(tmp_path / "*.md")], None, lambda p: False)[0] == want


def test_a_glob_that_matches_nothing_is_a_usage_error(tmp_path: Path) -> None:
    pattern = str(tmp_path / "*.json")
    with pytest.raises(ToolError, match="no files match") as caught:
        find_sources([pattern], None, lambda p: False)
    assert (caught.value.path, caught.value.exit_code) == (pattern, 2)


def test_a_path_input_format_takes_its_items_as_given(tmp_path: Path) -> None:
    assert find_sources([str(tmp_path)], "checkpoint", lambda p: True) == \
        ([str(tmp_path)], False, set())


# -- running: stdin, the out-dir, and jobs reaching the converter -------------------

class JobsProbe(registry.Converter):
    """A converter that writes the ``jobs`` it was given."""

    source, target = "probe", "toon"
    description = "the jobs option, as TOON"
    suffixes, output_suffix = (".probe",), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        return encode({"jobs": self.jobs, "data": data.decode()})


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry.converters()
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(JobsProbe)
    yield


@pytest.mark.usefixtures("probe")
@pytest.mark.parametrize("jobs", [None, 1, 3])
def test_jobs_reaches_the_converter_without_touching_the_environment(
        tmp_path: Path, jobs: int | None) -> None:
    before = dict(os.environ)
    src = write(tmp_path / "x.probe", "hi")
    (outcome,) = run(plan([str(src)]), jobs=jobs)
    assert outcome.text == encode({"jobs": jobs, "data": "hi"}) + "\n"
    assert dict(os.environ) == before
    assert registry.lookup("probe", "toon", jobs=jobs).jobs == jobs


@pytest.mark.usefixtures("probe")
def test_stdin_is_given_by_the_caller(tmp_path: Path) -> None:
    jobs = plan(["-"], source_format="probe")
    assert reads_stdin(jobs) and not reads_stdin(plan([str(tmp_path / "x.probe")]))
    with pytest.raises(ValueError, match="stdin"):
        run(jobs)
    (outcome,) = run(jobs, jobs=4, stdin=b"piped")
    assert outcome.text == encode({"jobs": 4, "data": "piped"}) + "\n"
    assert outcome.source_bytes == 5


def test_run_creates_the_out_dir_and_names_it_when_it_cannot(tmp_path: Path) -> None:
    src = write(tmp_path / "a.json", '{"a": 1}')
    out_dir = tmp_path / "new" / "out"
    (outcome,) = run(plan([str(src)], out_dir=str(out_dir)), out_dir=str(out_dir))
    assert outcome.written and (out_dir / "a.toon").read_bytes() == b"a: 1\n"
    blocker = write(tmp_path / "file", "")
    with pytest.raises(OSError) as caught:
        run(plan([str(src)], out_dir=str(blocker / "out")), out_dir=str(blocker / "out"))
    assert caught.value.filename == str(blocker / "out")


def test_outcomes_come_back_in_order_from_a_pool(tmp_path: Path) -> None:
    srcs = [write(tmp_path / f"f{i:02d}.json", f'{{"i": {i}}}') for i in range(9)]
    write(srcs[4], '{"i": ')  # one bad file among them
    outcomes = list(run(plan([str(s) for s in srcs], out_dir=str(tmp_path / "o")), jobs=2,
                        out_dir=str(tmp_path / "o")))
    assert [o.job.source for o in outcomes] == [str(s) for s in srcs]
    assert [o.status for o in outcomes] == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    err = outcomes[4].error
    assert isinstance(err, ToolError) and (err.path, err.line) == (str(srcs[4]), 1)
    assert (tmp_path / "o" / "f08.toon").read_bytes() == b"i: 8\n"
