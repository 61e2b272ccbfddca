"""Bad pipeline files and bad runs, through the real ``toon`` entry point: each gets
its contract exit code (2 for a bad file, a missing input or an unusable provider;
1 for a failed step or a budget exceeded) and exactly one line, positioned at the
offending key or value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.conftest import run_toon
from toon_tools.codec import decode_located, encode
from toon_tools.pipeline.spec import (
    PIPELINE_FIELDS,
    STEP_FIELDS,
    PipelineError,
    StepError,
    load_pipeline,
    lookup,
    parse_pipeline,
    position,
    render,
)

STEP = "name: p\nsteps[1]:\n  - id: s\n    prompt: hi\n"  # a step's next key is on line 5

BAD_FILES = [
    # wrong types and unknown keys in a step
    (STEP + "    batch: x\n", "5:12: step 's': 'batch': expected an integer from 1 to 100,000, got \"x\""),
    (STEP + "    batch: 0\n", "5:12: step 's': 'batch': expected an integer from 1 to 100,000, got 0"),
    (STEP + "    params: 3\n", "5:13: step 's': 'params': expected an object, got 3"),
    (STEP + "    needs: abc\n", "5:12: step 's': 'needs': expected an array of step ids, got the "
                               "string \"abc\" (an array of one is written needs[1]: abc)"),
    (STEP + "    samples: -1\n",
     "5:14: step 's': 'samples': expected an integer from 1 to 1,000, got -1"),
    (STEP + "    max_reasks: true\n",
     "5:17: step 's': 'max_reasks': expected an integer from 0 to 100, got true"),
    (STEP + "    model: 4\n", "5:12: step 's': 'model': expected a string, got 4"),
    (STEP + "    colour: red\n", "5:5: step 's': unknown key 'colour'"),
    (STEP + "    bach: 2\n", "5:5: step 's': unknown key 'bach' (did you mean 'batch'?)"),
    (STEP + "    provider: openai\n", "5:5: step 's': unknown key 'provider' ('provider' is set "
                                     "for the whole pipeline, at the top level)"),
    (STEP + "    output: text\n", "5:13: step 's': 'output': expected an object, got \"text\""),
    (STEP + "    output:\n      schemas: x\n",
     "5:5: step 's': 'output': unknown key 'schemas' (output has 'schema', 'model' or "
     "'required')"),
    (STEP + "    output:\n      required: text\n", "5:5: step 's': 'output': expected an array of "
     "field names (name[] or name[N] for a list), got the string \"text\" (an array of one is "
     "written required[1]: text)"),
    (STEP + "    output:\n      required[1]: \"tags[0]\"\n", "5:5: step 's': 'output': bad output "
     "field 'tags[0]': expected name, name[] or name[N] (N from 1 to 1000)"),
    (STEP + "    output:\n      required[2]: a,a\n",
     "5:5: step 's': 'output': output field 'a' is declared twice"),
    (STEP + "    structured: json\n", "5:17: step 's': 'structured': expected one of 'off', "
     "'json-schema', 'toon-grammar', got \"json\""),
    (STEP + "    timeout: 0\n", "5:14: step 's': 'timeout': expected a number of seconds from 0 "
     "to 86,400, got 0"),
    ("prices:\n  m:\n    input: 1\n" + STEP[STEP.index("steps"):],
     "1:1: 'prices': model 'm': no 'output' price (dollars per million tokens)"),
    (STEP + "    python: nocolon\n", "5:13: step 's': 'python': expected 'module:function', "
                                    "got \"nocolon\""),
    (STEP + "    python: m:f\n", "5:5: step 's' needs exactly one of 'prompt' or 'python'"),
    ("steps[1]:\n  - id: s\n    system: x\n", "2:5: step 's' needs exactly one of 'prompt' or 'python'"),
    # the steps themselves
    ("steps[1]:\n  - 3\n", "2:5: steps[0]: expected an object, got 3"),
    ("steps[1]:\n  - prompt: x\n", "2:5: steps[0]: no 'id'"),
    ("steps[1]:\n  - id: items\n    prompt: x\n", "2:9: steps[0]: 'id': 'items' is reserved "
                                                  "(inputs, item and items name template values)"),
    ("steps[2]:\n  - id: a\n    prompt: x\n  - id: a\n    prompt: y\n",
     "4:9: steps[1]: step id 'a' is used twice"),
    ("steps[2]{id,prompt}:\n  a,x\n  b,{{ c }}\n", "3:5: step 'b': unknown template variable '{{ c }}'"),
    ("steps[1]{id,prompt,colour}:\n  a,x,red\n", "2:7: step 'a': unknown key 'colour'"),
    # dependencies and templates
    ("steps[2]:\n  - id: a\n    needs[1]: b\n    prompt: x\n  - id: b\n    needs[1]: a\n"
     "    prompt: y\n", "3:15: dependency cycle: a -> b -> a"),
    ("steps[1]:\n  - id: a\n    needs[1]: a\n    prompt: x\n", "3:15: dependency cycle: a -> a"),
    ("steps[1]:\n  - id: a\n    needs[1]: nope\n    prompt: x\n",
     "3:15: step 'a' needs 'nope', which is not a step"),
    ("steps[1]:\n  - id: a\n    prompt: \"{{ who }}\"\n",
     "3:13: step 'a': unknown template variable '{{ who }}'"),
    ("steps[1]:\n  - id: a\n    foreach: b.items\n    prompt: x\n",
     "3:14: step 'a': foreach 'b.items' must start with one of its needs"),
    ("steps[2]:\n  - id: b\n    prompt: x\n    output:\n      required[1]: items\n  - id: a\n"
     "    needs[1]: b\n    foreach: b.items\n    prompt: \"{{ item }}\"\n",
     "8:14: step 'a': foreach 'b.items' is not an array: step 'b' declares a single value "
     "(an array is 'items[]')"),
    # the top level
    ("name: p\ncolour: red\n" + STEP[8:], "2:1: unknown key 'colour'"),
    ("name: p\nparams: 3\n" + STEP[8:], "2:9: 'params': expected an object, got 3"),
    ("name: ../up\n" + STEP[8:], "1:7: 'name': names the run folder, so it must be one folder "
                                 "name, got \"../up\""),
    ("provider: claude\n" + STEP[8:], "1:11: 'provider': expected one of 'offline', 'openai', "
                                      "'anthropic', got \"claude\""),
    ("inputs: topic\n" + STEP[8:], "1:9: 'inputs': expected an array of input names, got the "
                                   "string \"topic\" (an array of one is written inputs[1]: topic)"),
    ("steps: 3\n", "1:8: 'steps': expected a non-empty array of steps, got 3"),
    ("name: p\n", "a pipeline needs 'steps', a non-empty array"),
    ("[1]: x\n", "a pipeline is an object with 'steps'"),
    # TOON syntax, at the decoder's line and column; comments keep positions true
    ("# a comment\nsteps[1]:\n  - id: s\n    prompt: \"hi\n", "4:13: unterminated string"),
    (STEP + "    batch: " + "1" * 5000 + "\n", "5:12: integer has 5000 digits, more than the 4300 "
     "Python converts exactly (sys.get_int_max_str_digits()); decode with "
     "parse_int=decimal.Decimal to keep it"),
    ("# a comment\n\n" + STEP + "    # another\n    batch: x\n",
     "8:12: step 's': 'batch': expected an integer from 1 to 100,000, got \"x\""),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_pipeline_file_is_exit_2_with_one_positioned_line(tmp_path: Path, text: str,
                                                                 message: str) -> None:
    f = tmp_path / "p.toon"
    f.write_text(text)
    where = f"{f}:" if message[0].isdigit() else f"{f}: "
    r = run_toon("pipeline", "run", str(f), cwd=tmp_path, env={"TOON_CACHE_DIR": str(tmp_path / "c")})
    assert (r.code, r.out, r.err) == (2, "", f"toon: error: {where}{message}\n")
    assert not (tmp_path / "runs").exists()  # refused before anything ran


@pytest.mark.parametrize("command", ["plan", "graph"])
def test_plan_and_graph_refuse_a_bad_file_the_same_way(tmp_path: Path, command: str) -> None:
    f = tmp_path / "p.toon"
    f.write_text(STEP + "    needs: abc\n")
    r = run_toon("pipeline", command, str(f), env={"TOON_CACHE_DIR": str(tmp_path / "c")})
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"toon: error: {f}:5:12: step 's': 'needs': expected an array")


@pytest.mark.parametrize(("text", "message"), [
    ('{"steps": [{"id": "s", "prompt": "hi", "batch": "x"}]}',
     ": step 's': 'batch': expected an integer from 1 to 100,000, got \"x\""),
    ('{"steps": [\n  {"id": "s",]}',
     ":2:14: invalid JSON: Expecting property name enclosed in double quotes"),
    (b'{"steps": "\xff"}', ":1:12: invalid JSON: not UTF-8 text: byte 0xff (invalid start byte)"),
    ('{"steps": [{"id": "s", "prompt": "hi", "batch": ' + "1" * 5000 + "}]}",
     ":1:49: integer with 5,000 digits: over Python's limit of 4,300 digits, so it cannot be "
     "kept exactly"),
])
def test_a_bad_json_pipeline_file_names_the_file(tmp_path: Path, text: str | bytes,
                                                 message: str) -> None:
    f = tmp_path / "p.json"
    f.write_bytes(text.encode() if isinstance(text, str) else text)
    r = run_toon("pipeline", "run", str(f))
    assert (r.code, r.err) == (2, f"toon: error: {f}{message}\n")


def test_a_missing_or_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    for command in ("run", "plan"):
        r = run_toon("pipeline", command, str(tmp_path / "missing.toon"))
        assert (r.code, r.err) == (
            2, f"toon: error: {tmp_path / 'missing.toon'}: No such file or directory\n")
    r = run_toon("pipeline", "run", str(tmp_path))
    assert (r.code, r.err) == (2, f"toon: error: {tmp_path}: is a directory\n")
    r = run_toon("pipeline", "status", str(tmp_path / "nowhere"))
    assert (r.code, r.err) == (2, f"toon: error: {tmp_path / 'nowhere'}: no readable state.json "
                                  "(No such file or directory)\n")
    (tmp_path / "state.json").write_text("[1]")
    r = run_toon("pipeline", "status", str(tmp_path))
    assert (r.code, r.err) == (2, f"toon: error: {tmp_path / 'state.json'}: not a run's state: "
                                  "no 'steps'\n")


def test_usage_and_environment_errors_are_exit_2_before_any_call(tmp_path: Path) -> None:
    f = tmp_path / "p.toon"
    f.write_text("inputs[1]: topic\nprovider: openai\nbase_url: \"ftp://x\"\n"
                 "steps[1]:\n  - id: s\n    prompt: \"{{ inputs.topic }}\"\n")
    env = {"TOON_CACHE_DIR": str(tmp_path / "c"), "OPENAI_API_KEY": ""}
    r = run_toon("pipeline", "run", str(f), "--input", "topic=x", env=env)
    assert (r.code, r.err) == (2, "toon: error: base_url 'ftp://x' is not an http(s) URL\n")
    r = run_toon("pipeline", "run", str(f), "--input", "topic=x", "--base-url",
                 "https://api.example.invalid/v1", env=env)
    assert (r.code, r.err) == (2, "toon: error: no API key: set OPENAI_API_KEY (the pipeline "
                                  "names that variable)\n")
    r = run_toon("pipeline", "run", str(f), "--input", "topic=@" + str(tmp_path / "none.txt"),
                 env=env)
    assert (r.code, r.err) == (2, f"toon: error: --input topic: {tmp_path / 'none.txt'}: "
                                  "No such file or directory\n")
    assert not (tmp_path / "runs").exists()


def test_an_invalid_tool_toon_is_exit_2_in_plan_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.toon]\nexclude = 3\n")
    (tmp_path / "p.toon").write_text(STEP)
    r = run_toon("pipeline", "plan", "p.toon", cwd=tmp_path)
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert "pyproject.toml [tool.toon]: 'exclude': expected a list of strings" in r.err


def test_a_failed_step_is_exit_1_with_one_line(tmp_path: Path) -> None:
    f = tmp_path / "p.toon"
    f.write_text("steps[2]:\n  - id: a\n    python: \"no_such_module_x:f\"\n"
                 "  - id: b\n    needs[1]: a\n    prompt: \"{{ a }}\"\n")
    r = run_toon("pipeline", "run", str(f), "--run-dir", str(tmp_path / "run"),
                 env={"TOON_CACHE_DIR": str(tmp_path / "c")})
    assert (r.code, r.err) == (1, "toon: error: run failed: step 'a': python step 'no_such_module_x:f': "
                                  "No module named 'no_such_module_x'\n")
    assert "run failed, 0 tokens used by new calls" in r.out


def test_a_budget_exceeded_is_exit_1_with_one_line(tmp_path: Path) -> None:
    f = tmp_path / "p.toon"
    f.write_text(STEP)
    r = run_toon("pipeline", "run", str(f), "--budget-tokens", "0", "--run-dir",
                 str(tmp_path / "run"), env={"TOON_CACHE_DIR": str(tmp_path / "c")})
    assert (r.code, r.err) == (1, "toon: error: run stopped: the next call (step 's', ~261 tokens "
                                  "with its reply) would exceed --budget-tokens 0 (0 used)\n")


# -- in-process: the field tables, the locator, templates --------------------------

def test_every_field_has_a_checker_and_help() -> None:
    keys = [f.key for f in PIPELINE_FIELDS] + [f.key for f in STEP_FIELDS]
    assert all(f.help.endswith(".") for f in (*PIPELINE_FIELDS, *STEP_FIELDS))
    assert len({f.key for f in PIPELINE_FIELDS}) == len(PIPELINE_FIELDS)
    assert "steps" in keys and "batch" in keys


def test_the_error_is_a_configuration_error_with_its_position(tmp_path: Path) -> None:
    f = tmp_path / "p.toon"
    f.write_text(STEP + "    batch: x\n")
    with pytest.raises(PipelineError) as info:
        load_pipeline(f)
    assert (info.value.exit_code, info.value.line, info.value.column) == (2, 5, 12)


@pytest.mark.parametrize(("keys", "value", "where"), [
    (("a",), False, (2, 1)),
    (("a",), True, (2, 4)),
    (("list", 1, "x"), True, (6, 8)),
    (("list", 1, "y", "inner", "deep"), True, (9, 15)),
    (("list", 1, "nope"), True, (6, 5)),  # the item's first field, where it has no such key
    (("list", 1, "y"), False, (7, 5)),
    (("list", 0), False, (4, 5)),
    (("list", 5, "x"), False, (3, 1)),  # no such item: the deepest part found
    (("my key",), True, (10, 11)),
    (("rows", 1, "b"), True, (13, 5)),  # a cell has no key of its own: the cell
    (("rows", 1, "b"), False, (13, 5)),
    (("nothing",), False, None),
])
def test_errors_are_placed_at_keys_and_values(keys: tuple[str | int, ...], value: bool,
                                             where: tuple[int, int] | None) -> None:
    text = ("# comment\na: 1\nlist[2]:\n  - x: 1\n  # comment\n  - x: 2\n    y:\n      inner:\n"
            "        deep: 3\n\"my key\": v\nrows[2]{a,b}:\n  1,2\n  3,4\n")
    assert position(decode_located(text), keys, value=value) == where


def test_render_and_lookup_share_one_dotted_lookup() -> None:
    scope = {"inputs": {"t": "tides"}, "a": {"parts": ["x", {"k": 1}]}}
    assert lookup(scope, "a.parts.1.k") == 1
    assert render("{{ inputs.t }} / {{ a.parts.0 }} / {{ a.parts.1 }}", scope) == "tides / x / k: 1"
    for bad in ("a.nope", "a.parts.2", "inputs.t.x"):
        with pytest.raises(StepError, match=f"'{bad}' has no value"):
            render("{{ " + bad + " }}", scope)


# -- property: whatever the file holds, only a positioned PipelineError escapes ----

_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
_step_keys = st.sampled_from([f.key for f in STEP_FIELDS] + ["colour", "my key"])
_top_keys = st.sampled_from([f.key for f in PIPELINE_FIELDS if f.key != "steps"] + ["x"])


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.dictionaries(_step_keys, _values, max_size=4), min_size=1, max_size=3),
       base=st.lists(st.fixed_dictionaries({"id": st.sampled_from(["a", "b"]),
                                            "prompt": st.just("{{ b }}")}), max_size=2),
       top=st.dictionaries(_top_keys, _values, max_size=2))
def test_only_a_positioned_pipeline_error_escapes(steps: list[dict[str, object]],
                                                  base: list[dict[str, object]],
                                                  top: dict[str, object]) -> None:
    text = encode({**top, "steps": [*base, *steps]})
    try:
        located = decode_located(text)
        parse_pipeline(located.value, Path("p.toon"), located)
    except PipelineError as e:
        assert e.path == "p.toon" and e.message
        lines = text.split("\n")
        if e.line is not None:
            assert e.column is not None and 1 <= e.line <= len(lines)
            assert 1 <= e.column <= len(lines[e.line - 1]) + 1


# ---------------------------------------------------------------- contracts (issue 13, item 5)

def _contract_file(tmp_path: Path, output: str, mode: str = "off") -> Path:
    f = tmp_path / "p.toon"
    f.write_text(f"structured: {mode}\nsteps[1]:\n  - id: a\n    prompt: hi\n    output:\n"
                 f"{output}")
    return f


def test_output_schema_is_a_file_beside_the_pipeline_json_or_toon(tmp_path: Path) -> None:
    from toon_tools.pipeline.spec import load_pipeline

    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "s.toon").write_text(
        "type: object\nproperties:\n  title:\n    type: string\n    description: A title\n")
    p = load_pipeline(_contract_file(tmp_path, "      schema: schemas/s.toon\n"))
    shape = p.steps["a"].shape
    assert shape is not None and shape.schema["properties"]["title"]["type"] == "string"
    assert "# A title\ntitle: <text>" in shape.skeleton()


def test_output_schema_inline(tmp_path: Path) -> None:
    from toon_tools.pipeline.spec import load_pipeline

    p = load_pipeline(_contract_file(
        tmp_path, "      schema:\n        type: object\n        properties:\n"
        "          n:\n            type: integer\n"))
    shape = p.steps["a"].shape
    assert shape is not None and shape.fields[0].name == "n"


@pytest.mark.parametrize(("output", "message", "line", "column"), [
    ("      schema: missing.json\n", "step 'a': output 'schema': ", 6, 15),
    ("      schema:\n        type: array\n",
     "step 'a': output 'schema': the schema must describe an object with 'properties'", 6, 7),
    ("      schema:\n        type: nope\n", "step 'a': output 'schema': not a valid schema", 6, 7),
    ("      schema: s.json\n      required[1]: x\n",
     "step 'a': 'output': give one of 'schema', 'model' or 'required', not 'required' and "
     "'schema'", 5, 5),
    ("      model: nomodule_here:Scene\n",
     "step 'a': output 'model': cannot import 'nomodule_here:Scene'", 6, 14),
    ("      model: Scene\n", "step 'a': 'output': expected 'module:function'", 5, 5),
])
def test_bad_contracts_are_pipeline_errors_at_their_line(tmp_path: Path, output: str,
                                                         message: str, line: int,
                                                         column: int) -> None:
    from toon_tools.pipeline.spec import PipelineError, load_pipeline

    with pytest.raises(PipelineError) as e:
        load_pipeline(_contract_file(tmp_path, output))
    assert e.value.message.startswith(message), e.value.message
    assert (e.value.line, e.value.column) == (line, column)


def test_output_model_is_imported_from_the_pipeline_folder(tmp_path: Path) -> None:
    from toon_tools.pipeline.replies import RejectedReply, read_reply
    from toon_tools.pipeline.spec import load_pipeline

    (tmp_path / "scenemodels.py").write_text(
        "from typing import Literal\nfrom pydantic import BaseModel, Field\n"
        "class Scene(BaseModel):\n"
        "    title: str = Field(description='A short title')\n"
        "    mood: Literal['dark', 'light'] = 'dark'\n"
        "    pages: int\n")
    p = load_pipeline(_contract_file(tmp_path, "      model: scenemodels:Scene\n"))
    shape = p.steps["a"].shape
    assert shape is not None and shape.model == "scenemodels:Scene"
    assert "# A short title\ntitle: <text>\nmood: dark|light\npages: <integer>" in shape.skeleton()
    # The model's defaults fill the artifact.
    assert read_reply("title: Dune\npages: 3", shape).value == {
        "title": "Dune", "mood": "dark", "pages": 3}
    with pytest.raises(RejectedReply) as e:
        read_reply("title: Dune\npages: many", shape)
    assert e.value.for_model() == "pages: expected an integer, got a text"
    assert (e.value.line, e.value.column) == (2, 8)


def test_a_contracts_sibling_file_ref_reaches_every_consumer(tmp_path: Path) -> None:
    from toon_tools.pipeline.spec import load_pipeline
    from toon_tools.schema.validate import Schema

    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "place.json").write_text(json.dumps({
        "type": "object", "required": ["city"],
        "properties": {"city": {"type": "string", "description": "Where it happens"}}}))
    (tmp_path / "schemas" / "scene.json").write_text(json.dumps({
        "type": "object", "required": ["title", "where"],
        "properties": {"title": {"type": "string"}, "where": {"$ref": "place.json"}}}))
    for output in ["      schema: schemas/scene.json\n",
                   "      schema:\n        type: object\n        properties:\n"
                   "          where:\n            $ref: schemas/place.json\n"]:
        shape = load_pipeline(_contract_file(tmp_path, output, "toon-grammar")).steps["a"].shape
        assert shape is not None
        assert "where:\n  # Where it happens\n  city: <text>" in shape.skeleton()
        sent = json.dumps(shape.json_schema())
        assert '"$ref": "#/$defs/place"' in sent and "place.json" not in sent
        assert shape.json_schema()["$defs"]["place"]["additionalProperties"] is False
        assert '"city: "' in shape.gbnf()
        example = shape.example("t")
        assert example["where"] == {"city": "city (t)"}
        assert Schema.load(tmp_path / "schemas" / "scene.json").problems(
            {"title": "x", **example}) == []
