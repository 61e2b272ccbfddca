"""Pipeline files: steps, their dependencies and prompt templates, validated before
any model is called.

A pipeline file is TOON (or JSON)::

    name: snowflake
    inputs[1]: premise
    provider: offline
    model: gpt-4o-mini
    steps[2]:
      - id: sentence
        prompt: "Write one sentence for: {{ inputs.premise }}"
        output:
          required[1]: sentence
      - id: scenes
        needs[1]: sentence
        foreach: sentence.beats
        batch: 5
        prompt: "Expand {{ item }} given {{ sentence.sentence }}"

Templates use ``{{ name.path }}``: ``inputs.<k>``, an upstream step id, ``item``
(and ``items`` for a batch) inside a ``foreach`` step.

Every key is declared once, with its checker, in :data:`PIPELINE_FIELDS` and
:data:`STEP_FIELDS` (as ``toon_tools.config.SETTINGS`` declares settings); an
unknown key or a wrong type is a :class:`PipelineError` at the offending key's
or value's line and column in a TOON file.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ..errors import Finding, ToolError

if TYPE_CHECKING:
    from ..codec import Located
    from .prices import Price
    from .shape import OutputShape

STEP_ID: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
VARIABLE: Final = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
PROVIDERS: Final = ("offline", "openai", "anthropic")
STRUCTURED: Final = ("off", "json-schema", "toon-grammar")
#: Seconds a call may take from when it is sent, unless the pipeline or step says.
DEFAULT_TIMEOUT: Final = 120.0
RESERVED_IDS: Final = frozenset({"inputs", "item", "items"})


class PipelineError(ToolError, ValueError):
    """The pipeline file is unreadable or invalid (exit 2, a configuration error);
    raised before any model is called, at the offending line and column when known."""


class StepError(Finding):
    """A step cannot go on at run time (a template value missing from an upstream
    artifact, a ``foreach`` over a non-array, no valid reply): the run fails (exit 1)."""


# ---------------------------------------------------------------- the checkers

def _shown(v: Any) -> str:
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    try:
        text = json.dumps(v, ensure_ascii=False)
    except ValueError:  # an integer over Python's 4,300-digit conversion limit
        return "a number of over 4,300 digits"
    return text if len(text) <= 40 else text[:37] + "..."


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {_shown(v)}")
    return str(v)


def _str_list(what: str, key: str) -> Callable[[Any], list[str]]:
    def check(v: Any) -> list[str]:
        if isinstance(v, str):
            raise ValueError(f"expected an array of {what}, got the string {_shown(v)} "
                             f"(an array of one is written {key}[1]: {v})")
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ValueError(f"expected an array of {what}, got {_shown(v)}")
        return list(v)

    return check


def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise ValueError(f"expected an integer from {low} to {high:,}, got {_shown(v)}")
        return v

    return check


def _object(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise ValueError(f"expected an object, got {_shown(v)}")
    return dict(v)


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"expected one of {', '.join(map(repr, options))}, got {_shown(v)}")
        return str(v)

    return check


def _folder_name(v: Any) -> str:
    """``name`` names the run folder (``runs/<name>``): one folder, never a path."""
    name = _str(v)
    if not name or name in (".", "..") or any(c in name for c in "/\\") or not name.isprintable():
        raise ValueError(f"names the run folder, so it must be one folder name, got {_shown(v)}")
    return name


def _step_id(v: Any) -> str:
    if not isinstance(v, str) or not STEP_ID.match(v):
        raise ValueError(f"{_shown(v)} must be letters, digits, '_' or '-' "
                         "(it names files in the run folder)")
    if v in RESERVED_IDS:
        raise ValueError(f"'{v}' is reserved (inputs, item and items name template values)")
    return v


def _python_target(v: Any) -> str:
    target = _str(v)
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"expected 'module:function', got {_shown(v)}")
    return target


_CONTRACT_KEYS: Final = ("required", "schema", "model")


def _output(v: Any) -> dict[str, Any]:
    """The contract's form; the contract itself is read by :func:`_contract`, which
    knows the pipeline file's folder."""
    from .shape import OutputShape

    output = _object(v)
    unknown = sorted(set(output) - set(_CONTRACT_KEYS))
    if unknown:
        raise ValueError(f"unknown key '{unknown[0]}' (output has 'schema', 'model' or "
                         "'required')")
    given = [k for k in _CONTRACT_KEYS if k in output]
    if len(given) > 1:
        raise ValueError(f"give one of 'schema', 'model' or 'required', not "
                         f"{' and '.join(repr(k) for k in given)}")
    if "required" in output:
        output["required"] = _str_list("field names (name[] or name[N] for a list)",
                                       "required")(output["required"])
        output["shape"] = OutputShape.parse(output["required"])
    if "schema" in output and not isinstance(output["schema"], (str, dict)):
        raise ValueError(f"'schema' is a file (JSON or TOON) or an object, got "
                         f"{_shown(output['schema'])}")
    if "model" in output:
        _python_target(output["model"])
    return output


def _contract(output: dict[str, Any], folder: Path) -> tuple[str, OutputShape] | None:
    """The shape of ``output.schema`` or ``output.model`` (``required`` is read by
    :func:`_output`); ValueError or ToolError say what is wrong, and the key that
    is."""
    from ..schema.bundle import bundle
    from ..schema.validate import Schema, SchemaError
    from .shape import ContractError, OutputShape

    if "schema" in output:
        given = output["schema"]
        try:
            if isinstance(given, str):
                path = Path(given) if Path(given).is_absolute() else folder / given
                loaded = Schema.load(path)
                schema, base = loaded.schema, path
            else:
                Schema.from_dict(given, base=folder)
                schema, base = given, folder
            # Sibling files inlined once, here: the skeleton, both structured
            # payloads, the offline example and validation all read this schema.
            return "schema", OutputShape.from_schema(bundle(schema, base), base=base)
        except SchemaError as e:
            where = f" ({e.path})" if e.path and isinstance(given, str) else ""
            at = f" at {e.line}:{e.column}" if e.line else ""
            raise ValueError(f"{e.message}{where}{at}") from None
        except ContractError as e:
            raise ValueError(str(e)) from None
    if "model" in output:
        cls, _ = import_model(output["model"], folder)
        try:
            schema = cls.model_json_schema() if hasattr(cls, "model_json_schema") else \
                import_model(output["model"], folder)[1].json_schema()
            return "model", OutputShape.from_schema(schema, base=folder, model=output["model"])
        except ContractError as e:
            raise ValueError(str(e)) from None
    return None


_MODELS: dict[tuple[str, str], tuple[Any, Any]] = {}


def import_model(target: str, folder: Path | None) -> tuple[Any, Any]:
    """``package.module:Scene`` imported from ``folder`` (the pipeline file's) or
    sys.path, and its pydantic TypeAdapter (made once). ToolError (exit 2) without
    pydantic, naming the extra; ValueError when the target cannot be imported."""
    import importlib
    import sys

    key = (target, str(folder))
    if key in _MODELS:
        return _MODELS[key]
    try:
        from pydantic import TypeAdapter
    except ImportError:
        raise ToolError("output 'model' needs pydantic: pip install 'toon-tools[types]'") \
            from None
    module_name, _, name = target.partition(":")
    added = folder is not None and str(folder) not in sys.path
    if added:
        sys.path.insert(0, str(folder))
    try:
        cls: Any = importlib.import_module(module_name)
        for part in name.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import {target!r}: {e}") from None
    finally:
        if added:
            sys.path.remove(str(folder))
    try:
        adapter: Any = TypeAdapter(cls)
        adapter.json_schema()
    except Exception as e:  # pydantic's PydanticSchemaGenerationError, a TypeError
        raise ValueError(f"{target!r} is not a type pydantic can validate: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    _MODELS[key] = (cls, adapter)
    return cls, adapter


def _seconds(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 86_400:
        raise ValueError(f"expected a number of seconds from 0 to 86,400, got {_shown(v)}")
    return float(v)


def _prices(v: Any) -> Any:
    from .prices import parse_prices

    return parse_prices(v)


def _steps(v: Any) -> list[Any]:
    if not isinstance(v, list) or not v:
        raise ValueError(f"expected a non-empty array of steps, got {_shown(v)}")
    return v


@dataclass(frozen=True)
class Field:
    key: str
    check: Callable[[Any], Any]  # returns the value, or raises ValueError saying what it expected
    help: str


PIPELINE_FIELDS: Final[tuple[Field, ...]] = (
    Field("name", _folder_name, "Names the run folder, runs/<name> (default: the file's stem)."),
    Field("inputs", _str_list("input names", "inputs"), "Inputs every run must be given (--input K=V)."),
    Field("provider", _choice(*PROVIDERS), "Who answers: offline (default), openai or anthropic."),
    Field("model", _str, "The model of every step that names none (default offline-1)."),
    Field("base_url", _str, "The endpoint (default: the provider's own API)."),
    Field("api_key_env", _str,
          "The variable holding the API key (default OPENAI_API_KEY or ANTHROPIC_API_KEY)."),
    Field("params", _object, "Request parameters of every call (temperature, ...)."),
    Field("max_reasks", _int_range(0, 100), "Re-asks after an invalid reply (default 2)."),
    Field("structured", _choice(*STRUCTURED),
          "Constrain replies: off (default), json-schema or toon-grammar."),
    Field("timeout", _seconds, "Seconds a call may take from when it is sent (default 120)."),
    Field("prices", _prices, "Dollars per million tokens by model, over the built-in table."),
    Field("steps", _steps, "The steps, in any order: their needs decide the order."),
)
STEP_FIELDS: Final[tuple[Field, ...]] = (
    Field("id", _step_id, "Names the step, its artifact files and its template value."),
    Field("needs", _str_list("step ids", "needs"), "Steps whose artifacts this step reads."),
    Field("prompt", _str, "The user message template (this or python)."),
    Field("system", _str, "The system message template."),
    Field("model", _str, "This step's model."),
    Field("params", _object, "Request parameters, over the pipeline's."),
    Field("output", _output, "The reply's contract: schema (a JSON/TOON file or an object), "
          "model (module:Class, pydantic) or required (name, name[], name[N])."),
    Field("foreach", _str, "One call per item of an upstream array (need.field)."),
    Field("batch", _int_range(1, 100_000), "Items per call in a foreach step (default 1)."),
    Field("python", _python_target, "module:function computing the artifact (this or prompt)."),
    Field("samples", _int_range(1, 1_000), "Replies per call, kept as an array (default 1)."),
    Field("max_reasks", _int_range(0, 100), "Re-asks after an invalid reply."),
    Field("structured", _choice(*STRUCTURED), "This step's structured mode, over the pipeline's."),
    Field("timeout", _seconds, "This step's call timeout in seconds, over the pipeline's."),
)
_PIPELINE_BY_KEY: Final = {f.key: f for f in PIPELINE_FIELDS}
_STEP_BY_KEY: Final = {f.key: f for f in STEP_FIELDS}
#: Keys that earlier versions accepted on a step and ignored.
_TOP_LEVEL_ONLY: Final = frozenset({"provider", "base_url", "api_key_env"})


# ---------------------------------------------------------------- the model

@dataclass
class Step:
    id: str
    needs: list[str]
    prompt: str | None = None
    system: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    foreach: str | None = None
    batch: int = 1
    python: str | None = None
    samples: int = 1
    max_reasks: int = 2
    shape: OutputShape | None = None  # from ``required``; None: the reply is kept as text
    structured: str | None = None  # None: the pipeline's
    timeout: float | None = None  # None: the pipeline's

    def inputs_used(self) -> list[str]:
        """The ``inputs.<k>`` names its templates read."""
        names = VARIABLE.findall((self.prompt or "") + (self.system or ""))
        return sorted({n.split(".")[1] for n in names if n.startswith("inputs.") and "." in n})


@dataclass
class Pipeline:
    name: str
    inputs: list[str]
    provider: str
    model: str
    base_url: str | None
    api_key_env: str | None  # None: the provider's usual variable
    params: dict[str, Any]
    steps: dict[str, Step]
    path: Path
    structured: str = "off"
    timeout: float = DEFAULT_TIMEOUT
    prices: dict[str, Price] = field(default_factory=dict)

    def waves(self) -> list[list[str]]:
        """Steps grouped in execution waves (all of a wave's needs come earlier)."""
        done: set[str] = set()
        waves = []
        remaining = dict(self.steps)
        while remaining:
            wave = sorted(s for s, step in remaining.items() if set(step.needs) <= done)
            waves.append(wave)
            done.update(wave)
            for s in wave:
                del remaining[s]
        return waves

    def use_model(self, model: str) -> None:
        """Every step calls ``model`` (``--model`` on the command line)."""
        self.model = model
        for step in self.steps.values():
            step.model = model

    def use_structured(self, mode: str) -> None:
        """Every step uses ``mode`` (``--structured`` on the command line);
        PipelineError when a step's contract cannot be said in it."""
        for step in self.steps.values():
            problem = _grammar_problem(step, mode)
            if problem:
                raise PipelineError(f"--structured {mode}: {problem}", path=str(self.path))
        self.structured = mode
        for step in self.steps.values():
            step.structured = mode

    def use_timeout(self, seconds: float) -> None:
        """Every call may take ``seconds`` (``--timeout`` on the command line)."""
        self.timeout = seconds
        for step in self.steps.values():
            step.timeout = seconds

    def model_of(self, step: Step) -> str:
        return step.model or self.model

    def structured_of(self, step: Step) -> str:
        return step.structured or self.structured

    def timeout_of(self, step: Step) -> float:
        return step.timeout or self.timeout

    def check_inputs(self, given: Mapping[str, Any]) -> None:
        """Every declared input is given; a usage error (exit 2) otherwise."""
        missing = [k for k in self.inputs if k not in given]
        if missing:
            raise ToolError(f"missing input '{missing[0]}' (give it with --input {missing[0]}=...)")


def _grammar_problem(step: Step, mode: str) -> str | None:
    """Why ``toon-grammar`` cannot hold this step's replies to its contract, or None."""
    from .shape import ContractError

    if mode != "toon-grammar" or step.shape is None or step.prompt is None:
        return None
    try:
        step.shape.check_grammar()
    except ContractError as e:
        return (f"step '{step.id}': {e} (use structured: json-schema or off for this step, "
                "or simplify its contract)")
    return None


# ---------------------------------------------------------------- loading

#: A path of keys and indexes into the pipeline file, from its root.
Keys = tuple[str | int, ...]


def position(located: Located, keys: Keys, *, value: bool = False) -> tuple[int, int] | None:
    """Line and column of the last key of ``keys`` (of its value with ``value=True``,
    an array's first item; list items and table cells have no key, so their value),
    or of the deepest part of the path that exists; None for the root, or when not
    even the first part exists."""
    from ..codec import json_pointer

    pointer = json_pointer(keys)
    found, span = located.find(pointer)
    if not found:
        return None  # the whole file, or nothing in it: the file alone is named
    if value and found == pointer:
        first = located.spans.get(pointer + "/0")
        if first is not None and span.key is not None:  # an array: at its first item
            span = first
        r = span.value
    else:
        r = span.key or span.value
    return r.line, r.column


class _Source:
    """The pipeline file being validated: builds errors at a key's position."""

    def __init__(self, path: Path, located: Located | None) -> None:
        self.path = path
        self.located = located

    def error_at(self, keys: Keys, message: str, *, value: bool = False) -> PipelineError:
        """A PipelineError (returned, for the caller to raise) at ``keys``'s key, or at
        its value with ``value=True``; JSON files name only the file."""
        where = position(self.located, keys, value=value) if self.located else None
        line, column = where if where else (None, None)
        return PipelineError(message, path=str(self.path), line=line, column=column)


def load_pipeline(path: str | Path) -> Pipeline:
    """Read, decode and validate a pipeline file (``.json``: JSON, else TOON)."""
    from ..codec import ToonDecodeError, decode_located

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        reason = "is a directory" if isinstance(e, IsADirectoryError) else (e.strerror or str(e))
        raise PipelineError(reason, path=str(path)) from None
    if path.suffix == ".json":
        from ..convert.json_toon import read_json
        from ..convert.registry import ConversionError

        try:
            raw = read_json(data, str(path))  # the one JSON reader: positions, UTF-8, huge ints
        except ConversionError as e:
            raise PipelineError(e.message, path=e.path, line=e.line, column=e.column) from None
        return parse_pipeline(raw, path)
    try:
        located = decode_located(data)  # positions for every error below
    except ToonDecodeError as e:
        raise PipelineError(e.msg, path=str(path), line=e.line, column=e.column) from None
    return parse_pipeline(located.value, path, located)


def _checked(source: _Source, fields: Mapping[str, Field], raw: dict[str, Any], at: Keys,
             name: str) -> dict[str, Any]:
    """``raw``'s values through their checkers; unknown keys and wrong types refused."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        spec = fields.get(key)
        if spec is None:
            if fields is _STEP_BY_KEY and key in _TOP_LEVEL_ONLY:
                hint = f" ('{key}' is set for the whole pipeline, at the top level)"
            else:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise source.error_at((*at, key), f"{name}unknown key '{key}'{hint}")
        try:
            out[key] = spec.check(value)
        except ValueError as e:
            raise source.error_at((*at, key), f"{name}'{key}': {e}", value=True) from None
    return out


def parse_pipeline(raw: Any, path: Path, located: Located | None = None) -> Pipeline:
    """Validate decoded pipeline data; ``located`` (its located decode, for a TOON
    source) lets errors carry the line and column of what they refuse."""
    source = _Source(path, located)
    if not isinstance(raw, dict):
        raise source.error_at((), "a pipeline is an object with 'steps'")
    top = _checked(source, _PIPELINE_BY_KEY, raw, (), "")
    if "steps" not in top:
        raise source.error_at((), "a pipeline needs 'steps', a non-empty array")
    steps: dict[str, Step] = {}
    index: dict[str, int] = {}
    default_reasks = top.get("max_reasks", 2)
    for i, rs in enumerate(top["steps"]):
        at: Keys = ("steps", i)
        if not isinstance(rs, dict):
            raise source.error_at(at, f"steps[{i}]: expected an object, got {_shown(rs)}")
        if "id" not in rs:
            raise source.error_at(at, f"steps[{i}]: no 'id'")
        try:
            sid = _step_id(rs["id"])
        except ValueError as e:
            raise source.error_at((*at, "id"), f"steps[{i}]: 'id': {e}", value=True) from None
        if sid in steps:
            raise source.error_at((*at, "id"), f"steps[{i}]: step id '{sid}' is used twice",
                                  value=True)
        values = _checked(source, _STEP_BY_KEY, rs, at, f"step '{sid}': ")
        output = values.get("output", {})
        try:
            made = _contract(output, path.parent)
        except ValueError as e:
            key = next(k for k in _CONTRACT_KEYS if k in output)
            raise source.error_at((*at, "output", key), f"step '{sid}': output '{key}': {e}",
                                  value=True) from None
        except ToolError as e:
            raise source.error_at((*at, "output", "model"), f"step '{sid}': {e.message}",
                                  value=True) from None
        if made is not None:
            output["shape"] = made[1]
        step = Step(
            id=sid, needs=values.get("needs", []), prompt=values.get("prompt"),
            system=values.get("system"), model=values.get("model"),
            params=values.get("params", {}),
            required=values.get("output", {}).get("required", []),
            shape=values.get("output", {}).get("shape"),
            foreach=values.get("foreach"), batch=values.get("batch", 1),
            python=values.get("python"), samples=values.get("samples", 1),
            max_reasks=values.get("max_reasks", default_reasks),
            structured=values.get("structured"), timeout=values.get("timeout"))
        if (step.prompt is None) == (step.python is None):
            keys = (*at, "python") if step.python is not None else at
            raise source.error_at(keys, f"step '{sid}' needs exactly one of 'prompt' or 'python'")
        steps[sid] = step
        index[sid] = i
    inputs = top.get("inputs", [])
    for step in steps.values():
        at = ("steps", index[step.id])
        for need in step.needs:
            if need not in steps:
                raise source.error_at((*at, "needs"), f"step '{step.id}' needs '{need}', "
                                      "which is not a step", value=True)
        if step.foreach is not None:
            head, _, field_name = step.foreach.partition(".")
            if head not in step.needs:
                raise source.error_at((*at, "foreach"), f"step '{step.id}': foreach "
                                      f"'{step.foreach}' must start with one of its needs",
                                      value=True)
            shape = steps[head].shape
            declared = {f.name: f for f in shape.fields} if shape else {}
            if field_name and declared and not (field_name in declared
                                                and declared[field_name].is_list):
                kind = "a single value" if field_name in declared else "no such field"
                raise source.error_at(
                    (*at, "foreach"), f"step '{step.id}': foreach '{step.foreach}' is not an "
                    f"array: step '{head}' declares {kind} (an array is '{field_name}[]')",
                    value=True)
        for key in ("prompt", "system"):
            for var in VARIABLE.findall(getattr(step, key) or ""):
                head = var.split(".", 1)[0]
                known = (head in step.needs or (head in ("item", "items") and step.foreach)
                         or (head == "inputs" and "." in var and var.split(".")[1] in inputs))
                if not known:
                    raise source.error_at((*at, key), f"step '{step.id}': unknown template "
                                          f"variable '{{{{ {var} }}}}'", value=True)
    cycle = _find_cycle(steps)
    if cycle:
        raise source.error_at(("steps", index[cycle[0]], "needs"),
                              "dependency cycle: " + " -> ".join(cycle), value=True)
    default_mode = top.get("structured", "off")
    for step in steps.values():
        problem = _grammar_problem(step, step.structured or default_mode)
        if problem:
            raise source.error_at(("steps", index[step.id], "output"), problem)
    return Pipeline(
        name=top.get("name") or path.stem, inputs=inputs,
        provider=top.get("provider", "offline"), model=top.get("model", "offline-1"),
        base_url=top.get("base_url"), api_key_env=top.get("api_key_env"),
        params=top.get("params", {}), steps=steps, path=path,
        structured=top.get("structured", "off"), timeout=top.get("timeout", DEFAULT_TIMEOUT),
        prices=top.get("prices", {}))


def _find_cycle(steps: dict[str, Step]) -> list[str] | None:
    """A dependency cycle (``a -> b -> a``), or None."""
    state: dict[str, int] = {}
    for start in steps:
        if state.get(start):
            continue
        stack = [(start, iter(steps[start].needs))]
        trail = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
                continue
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                trail.append(nxt)
                stack.append((nxt, iter(steps[nxt].needs)))
    return None


# ---------------------------------------------------------------- templates

def lookup(scope: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``a.b.0`` in ``scope`` (object keys, array indexes)."""
    v: Any = scope
    for p in dotted.split("."):
        if isinstance(v, Mapping) and p in v:
            v = v[p]
        elif isinstance(v, list) and p.isdigit() and int(p) < len(v):
            v = v[int(p)]
        else:
            raise StepError(f"'{dotted}' has no value")
    return v


def render(template: str, scope: Mapping[str, Any]) -> str:
    """Fill ``{{ a.b }}`` from ``scope``; strings go in as they are, structures
    as TOON (what the model reads most cheaply)."""
    from ..codec import encode

    def value(m: re.Match[str]) -> str:
        v = lookup(scope, m.group(1))
        return v if isinstance(v, str) else encode(v)

    return VARIABLE.sub(value, template)
