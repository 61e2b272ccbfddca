"""The closed converter registry: declarations agree, the CLI takes everything
from them, and a new format is one module named in MODULES."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from toon_tools.convert import registry
from toon_tools.convert.registry import (BYTES, PATH, Converter, converters, default_target,
                                         format_of, input_kind, output_suffix)


def test_every_converter_declares_its_contract() -> None:
    for (source, target), cls in converters().items():
        assert (cls.source, cls.target) == (source, target)
        assert cls.description and cls.output_suffix.startswith(".")
        assert cls.input in (BYTES, PATH)
        assert all(s.startswith(".") and s == s.lower() for s in cls.suffixes)
        assert cls.input == PATH or cls.suffixes, cls  # a file format is known by its name


def test_tables_derived_from_the_declarations() -> None:
    assert format_of("a/B.NDJSON") == "jsonl" and format_of("x.tar.json") == "json"
    assert format_of("notes.markdown") == "md" and format_of("r.pdf") == "pdf"
    assert format_of("x.yaml") is None and format_of("repo") is None
    assert default_target("toon") == "md" and default_target("json") == "toon"
    assert output_suffix("jsonl") == ".jsonl" and input_kind("checkpoint") == PATH


def _fake(source: str, target: str, out: str, kind: str = BYTES,
          default: bool = False) -> type[Converter]:
    return type(f"{source}_{target}", (Converter,), {
        "source": source, "target": target, "description": "d", "suffixes": (f".{source}",),
        "output_suffix": out, "input": kind, "default": default})


@pytest.mark.parametrize(("classes", "message"), [
    ([_fake("a", "toon", ".toon"), _fake("b", "toon", ".tn")], "disagree on the output suffix"),
    ([_fake("a", "toon", ".toon"), _fake("a", "md", ".md", kind=PATH)],
     "disagree on the input kind"),
    ([_fake("a", "toon", ".toon"), _fake("a", "md", ".md")], "mark exactly one default"),
])
def test_inconsistent_declarations_are_a_wiring_bug(classes: list[type[Converter]],
                                                    message: str) -> None:
    with pytest.raises(TypeError, match=message):
        registry._check({(c.source, c.target): c for c in classes})


YAML_MODULE = '''
from toon_tools.codec import encode
from toon_tools.convert.registry import Converter, register


@register
class IniToToon(Converter):
    source, target = "ini", "toon"
    description = "key=value lines to TOON"
    suffixes, output_suffix = (".ini",), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        pairs = (line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        return encode({k.strip(): v.strip() for k, v in pairs})
'''


def test_a_new_format_is_one_module_named_in_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ini_converter.py").write_text(YAML_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "MODULES", (*registry.MODULES, "ini_converter"))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.delitem(sys.modules, "ini_converter", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.ini").write_text("name = demo\nport = 80\n")

    from toon_tools.cli.commands.convert import convert

    runner = CliRunner()
    result = runner.invoke(convert, ["app.ini"])
    assert (result.exit_code, result.output) == (0, "name: demo\nport: \"80\"\n")
    assert "ini -> toon" in runner.invoke(convert, ["--help"]).output
    result = runner.invoke(convert, ["--from", "ini", "-"], input="a = 1\n")
    assert (result.exit_code, result.output) == (0, 'a: "1"\n')
