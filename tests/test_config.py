"""Settings: where they come from, what is refused, and what `exclude` means."""

from __future__ import annotations

from pathlib import Path

import pytest

from toon_tools.config import ConfigError, ExcludeRules, load_config
from toon_tools.errors import ToolError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, env={})
    assert cfg.file is None
    assert cfg["exclude"] == [] and cfg["tokens.encoding"] == "o200k_base"
    assert cfg.origins["exclude"] == "default"
    assert not cfg.excluded(tmp_path / "a.toon")


def test_pyproject_table_and_origins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.toon]\nexclude = ["gen/"]\n[tool.toon.tokens]\nbudget = 5\n')
    cfg = load_config(tmp_path / "sub", env={})
    assert cfg.file == tmp_path / "pyproject.toml"
    assert cfg["tokens.budget"] == 5
    assert "[tool.toon]" in cfg.origins["exclude"]


def test_dot_toon_toml_wins_over_a_pyproject_further_up(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.toon]\nexclude = ["a"]\n')
    write(tmp_path / "sub" / ".toon.toml", 'exclude = ["b"]\n')
    assert load_config(tmp_path / "sub", env={})["exclude"] == ["b"]


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    write(tmp_path / ".toon.toml", 'cache-dir = "here"\n')
    cfg = load_config(tmp_path, env={"TOON_CACHE_DIR": "/elsewhere"})
    assert cfg.cache_dir() == Path("/elsewhere")
    assert cfg.origins["cache-dir"] == "environment TOON_CACHE_DIR"


def test_relative_cache_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path / ".toon.toml", 'cache-dir = "cache"\n')
    assert load_config(tmp_path / "deep" / "er", env={}).cache_dir() == tmp_path / "cache"


@pytest.mark.parametrize("body, needle", [
    ("exclude = 3\n", "'exclude': expected a list of strings"),
    ('exclude = ["a", 1]\n', "'exclude': expected a list of strings"),
    ("colour = 1\n", "unknown key 'colour'"),
    ("tokens = 3\n", "'tokens' must be a table"),
    ("[tokens]\nbudget = -1\n", "'tokens.budget': expected a non-negative integer"),
    ("[tokens]\nbudget = true\n", "'tokens.budget': expected a non-negative integer"),
    ('[twins]\nlocation = "elsewhere"\n', "'twins.location': expected one of"),
    ("exclude = [\n", "invalid TOML"),
    ('exclude = ["[z-a]"]\n', "'exclude': pattern '[z-a]' is not a valid pattern"),
    ('[tokens]\nencoding = "nope"\n', "'tokens.encoding': unknown encoding 'nope' (known: "),
    ('[twins]\nsuffix = ""\n', "'twins.suffix': expected a non-empty file-name ending"),
    ('[twins]\nsuffix = "/x"\n', "'twins.suffix': expected a non-empty file-name ending"),
    ('[twins]\nsuffix = "../x.md"\n', "'twins.suffix': expected a non-empty file-name ending"),
    ('[twins]\nsuffix = ".toon"\n', "'twins.suffix': a twin's name must not end in .toon"),
    ('[twins]\nsuffix = ".md.toon"\n', "'twins.suffix': a twin's name must not end in .toon"),
    ('[twins]\ndir = "../outside"\n', "'twins.dir': expected a relative folder inside"),
    ('[twins]\ndir = "/etc"\n', "'twins.dir': expected a relative folder inside"),
    ('[twins]\ndir = "docs/../../x"\n', "'twins.dir': expected a relative folder inside"),
])
def test_bad_settings_are_configuration_errors_naming_file_and_key(
        tmp_path: Path, body: str, needle: str) -> None:
    write(tmp_path / ".toon.toml", body)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert needle in str(info.value)
    assert str(tmp_path / ".toon.toml") in str(info.value)
    assert isinstance(info.value, ToolError) and info.value.exit_code == 2


def test_good_values_of_the_checked_settings_pass(tmp_path: Path) -> None:
    write(tmp_path / ".toon.toml", '[tokens]\nencoding = "cl100k_base"\n'
                                   '[twins]\nsuffix = ".twin.md"\ndir = "docs/mirror"\n')
    cfg = load_config(tmp_path, env={})
    assert (cfg["tokens.encoding"], cfg["twins.suffix"], cfg["twins.dir"]) == \
        ("cl100k_base", ".twin.md", "docs/mirror")


def test_tool_toon_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\ntoon = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool.toon\] must be a table"):
        load_config(tmp_path, env={})


# -- exclude: gitignore(5) meaning ------------------------------------------------

CASES = [
    # pattern, path, excluded?
    ("vendor/", "vendor/a.toon", True),
    ("vendor/", "x/vendor/b.toon", True),        # no slash but the trailing one: any depth
    ("vendor/", "vendor", False),                # a folder-only pattern never matches a file
    ("vendor", "vendor", True),
    ("*.gen.toon", "a.gen.toon", True),
    ("*.gen.toon", "deep/er/a.gen.toon", True),
    ("/top.toon", "top.toon", True),
    ("/top.toon", "d/top.toon", False),          # a leading slash anchors at the root
    ("docs/*.toon", "docs/a.toon", True),
    ("docs/*.toon", "docs/sub/a.toon", False),   # * stops at a slash
    ("docs/*.toon", "x/docs/a.toon", False),     # a middle slash anchors too
    ("docs/**/x.toon", "docs/x.toon", True),
    ("docs/**/x.toon", "docs/a/b/x.toon", True),
    ("**/build", "a/b/build/c.toon", True),
    ("gen/**", "gen/a/b.toon", True),
    ("a?.toon", "ab.toon", True),
    ("a?.toon", "a/.toon", False),
    ("a[0-9].toon", "sub/a7.toon", True),
    ("a[!0-9].toon", "a7.toon", False),
    ("a[!0-9].toon", "ax.toon", True),
    ("drafts/*", "drafts/q/r.toon", True),       # the folder matched, so everything below it
    ("# a comment", "# a comment", False),
    ("  ", "x", False),
]


@pytest.mark.parametrize("pattern, path, expected", CASES)
def test_exclude_patterns_mean_what_gitignore_means(pattern: str, path: str,
                                                    expected: bool) -> None:
    assert ExcludeRules([pattern]).match(path) is expected


def test_the_last_matching_pattern_decides_and_bang_reincludes() -> None:
    rules = ExcludeRules(["*.gen.toon", "!keep.gen.toon"])
    assert rules.match("a.gen.toon") and not rules.match("keep.gen.toon")
    assert ExcludeRules(["!keep.toon", "*.toon"]).match("keep.toon")


def test_excluded_is_relative_to_the_config_files_folder(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".toon.toml", 'exclude = ["/gen/"]\n')
    cfg = load_config(tmp_path, env={})
    monkeypatch.chdir(tmp_path / "..")
    assert cfg.excluded(tmp_path / "gen" / "a.toon")
    assert cfg.excluded(str(tmp_path / "gen" / "a.toon"))
    assert not cfg.excluded(tmp_path / "src" / "gen.toon")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert cfg.excluded("../gen/a.toon")            # relative to the working folder
    assert not cfg.excluded("gen/a.toon")           # that is sub/gen/a.toon: not anchored there
    assert not cfg.excluded("/somewhere/else/gen/a.toon")  # outside the root: never excluded


def test_a_reader_gives_the_bytes_and_decides_which_files_exist(tmp_path: Path) -> None:
    """The hooks load the configuration as the git index holds it: ``read`` gives
    each file's bytes (None: no such file), whatever the disk says."""
    write(tmp_path / "pyproject.toml", '[tool.toon.schemas]\n"*.toon" = "disk.json"\n')
    write(tmp_path / ".toon.toml", 'exclude = ["disk"]\n')
    staged = {tmp_path / "pyproject.toml":
              b'[project]\nname = "x"\n[tool.toon.schemas]\n"*.toon" = "staged.json"\n'}
    cfg = load_config(tmp_path, env={}, read=lambda p: staged.get(p))
    assert cfg.file == tmp_path / "pyproject.toml"  # the .toon.toml is not in the index
    assert cfg["schemas"] == {"*.toon": "staged.json"}
    assert cfg["exclude"] == []
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(tmp_path, env={}, read=lambda p: b"[tool.toon\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path, env={}, read=lambda p: b"\xff = 1\n")
