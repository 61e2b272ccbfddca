"""``pipeline.plan`` in-process: the rerun decisions and the estimates, against a
real run (offline provider) into a real folder, with the reply cache on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from toon_tools.errors import ToolError
from toon_tools.pipeline.cache import DiskReplyCache
from toon_tools.pipeline.plan import SavedRun, fingerprint, plan
from toon_tools.pipeline.providers import OfflineProvider
from toon_tools.pipeline.runner import Runner
from toon_tools.pipeline.spec import Pipeline, load_pipeline

from .test_runner import FANOUT


def _words(text: str) -> int:
    return len(text.split())


def _load(tmp_path: Path, text: str = FANOUT) -> Pipeline:
    f = tmp_path / "p.toon"
    f.write_text(text)
    return load_pipeline(f)


def _run(tmp_path: Path, p: Pipeline, topic: str = "tides") -> OfflineProvider:
    provider = OfflineProvider()
    cache = DiskReplyCache(tmp_path / "llm")
    try:
        state = Runner(p, {"topic": topic}, provider, cache=cache, run_dir=tmp_path / "run").run()
    finally:
        cache.close()
    assert state.status == "done", state.error
    return provider


def _decisions(p: Pipeline, folder: Path, topic: str = "tides") -> dict[str, str]:
    return {row.step.id: row.decision for row in plan(p, {"topic": topic}, folder, _words)}


def test_a_fresh_plan_runs_everything_and_counts_templates(tmp_path: Path) -> None:
    p = _load(tmp_path)
    rows = plan(p, {"topic": "tides"}, tmp_path / "run", _words)
    assert [(r.wave, r.step.id, r.kind) for r in rows] == [
        (1, "outline", "call"), (2, "parts", "foreach outline.parts"), (3, "summary", "call")]
    assert all(r.runs and r.decision == "runs: no finished earlier run" for r in rows)
    # outline renders from the inputs; the others have no artifacts yet: the template
    # alone; both with the skeleton of the reply that the runner sends after them
    skeleton = {sid: _words(p.steps[sid].shape.skeleton()) for sid in ("outline", "parts")}
    assert str(rows[0].estimate) == str(5 + skeleton["outline"])  # "List the parts of tides"
    assert rows[1].estimate is not None and rows[1].estimate.template_only
    assert str(rows[1].estimate) == f"~{5 + skeleton['parts']} (template)"  # "Write about {{ item }}"


def test_after_a_run_nothing_runs_and_changes_propagate_downstream(tmp_path: Path) -> None:
    p = _load(tmp_path)
    _run(tmp_path, p)
    folder = tmp_path / "run"
    assert set(_decisions(p, folder).values()) == {"cached: nothing it depends on changed"}
    parts = plan(p, {"topic": "tides"}, folder, _words)[1]
    one = 5 + _words(p.steps["parts"].shape.skeleton())  # "Write about parts 1 (<digest>)"
    assert parts.estimate is not None and (parts.estimate.items, parts.estimate.per_item) == (5, one)
    assert str(parts.estimate) == f"{5 * one} (5 x {one})"  # 5 items
    assert _decisions(p, folder, "moons") == {
        "outline": "runs: input 'topic' changed", "parts": "runs: its input 'outline' changes",
        "summary": "runs: its input 'parts' changes"}
    edited = _load(tmp_path, FANOUT.replace("Write about", "Write briefly about"))
    assert _decisions(edited, folder) == {
        "outline": "cached: nothing it depends on changed",
        "parts": "runs: the step itself changed", "summary": "runs: its input 'parts' changes"}
    # ... and the runner agrees: re-running the edited pipeline calls only those two steps
    provider = _run(tmp_path, edited)
    assert provider.calls == 5 + 1


def test_fingerprint_is_a_free_function_of_what_decides_a_step(tmp_path: Path) -> None:
    p = _load(tmp_path)
    step = p.steps["parts"]
    before = fingerprint(p, step)
    assert fingerprint(p, step) == before and len(before) == 16
    p.params = {"temperature": 0}
    assert fingerprint(p, step) != before
    p.params = {}
    step.batch = 2
    assert fingerprint(p, step) != before
    step.batch = 1
    p.steps["summary"].prompt = "changed"  # another step's change is not this one's
    assert fingerprint(p, step) == before


def test_saved_run_reads_what_the_runner_wrote(tmp_path: Path) -> None:
    p = _load(tmp_path)
    _run(tmp_path, p)
    saved = SavedRun.read(tmp_path / "run")
    assert saved.status == "done" and saved.inputs == {"topic": "tides"}
    assert saved.steps["outline"]["fingerprint"] == fingerprint(p, p.steps["outline"])
    with pytest.raises(ToolError, match="no readable state.json"):
        SavedRun.read(tmp_path / "nowhere")
    assert SavedRun.read_if_any(tmp_path / "nowhere", p).steps == {}


def test_a_runner_checks_its_inputs_and_runs_once(tmp_path: Path) -> None:
    p = _load(tmp_path)
    with pytest.raises(ToolError, match=r"missing input 'topic' \(give it with --input topic=...\)"):
        Runner(p, {}, OfflineProvider(), cache=None, run_dir=tmp_path / "run")
    runner = Runner(p, {"topic": "x"}, OfflineProvider(), cache=None, run_dir=tmp_path / "run")
    assert runner.run().status == "done"
    with pytest.raises(RuntimeError, match="runs once"):
        runner.run()
