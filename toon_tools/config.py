"""Settings: ``[tool.toon]`` in pyproject.toml or a ``.toon.toml``, found by walking
up from the working folder; environment variables; defaults.

Each setting remembers where its value came from, for ``toon config``. Unknown
keys are errors that name the key, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final


class ConfigError(ValueError):
    """A configuration file is unreadable or says something we do not accept."""


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "tokens.encoding"
    default: Any
    check: Callable[[Any], Any]  # returns the value converted, or raises ValueError
    help: str
    env: str | None = None


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("expected a string")
    return v


def _opt_positive_int(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError("expected a non-negative integer")
    return v


def _str_list(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValueError("expected a list of strings")
    return list(v)


def _choice(*options: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"expected one of {', '.join(map(repr, options))}")
        return str(v)

    return check


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("cache-dir", None, _str,
            "Where token counts and vocabularies are cached "
            "(default: the user cache folder, e.g. ~/.cache/toon-tools).", env="TOON_CACHE_DIR"),
    Setting("exclude", [], _str_list, "Glob patterns of files the tools and hooks skip."),
    Setting("tokens.encoding", "o200k_base", _str, "tiktoken encoding for token counts."),
    Setting("tokens.budget", None, _opt_positive_int, "Token budget for all files together."),
    Setting("tokens.per-file-budget", None, _opt_positive_int, "Token budget for any one file."),
    Setting("twins.location", "beside", _choice("beside", "mirror"),
            "Markdown twins beside their source, or in a mirror folder."),
    Setting("twins.dir", "docs/toon", _str, "The mirror folder (twins.location = mirror)."),
    Setting("twins.suffix", ".md", _str, "Suffix that replaces .toon in a twin's name."),
)
_BY_KEY: Final = {s.key: s for s in SETTINGS}
_TABLES: Final = {k.split(".", 1)[0] for k in _BY_KEY if "." in k}


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # the file the values came from, if any

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def root(self) -> Path:
        """Folder that relative paths in the config file are relative to."""
        return self.file.parent if self.file else Path.cwd()

    def cache_dir(self) -> Path:
        value = self.values["cache-dir"]
        if value is None:
            import platformdirs

            return Path(platformdirs.user_cache_dir("toon-tools", appauthor=False))
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else self.root / path


def find_config_file(start: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """The nearest ``.toon.toml``, or pyproject.toml with a [tool.toon] table,
    walking up from ``start``; None if there is none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        dot = folder / ".toon.toml"
        if dot.is_file():
            return dot, _read_toml(dot)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("toon")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{pyproject}: [tool.toon] must be a table")
                return pyproject, table
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None


def _flatten(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: '{key}' must be a table")
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        else:
            flat[key] = value
    return flat


def load_config(start: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Resolve every setting: environment over config file over default."""
    env = os.environ if env is None else env
    cfg = Config()
    for s in SETTINGS:
        cfg.values[s.key] = s.default
        cfg.origins[s.key] = "default"
    found = find_config_file(start or Path.cwd())
    if found is not None:
        path, table = found
        cfg.file = path
        label = f"{path}" + (" [tool.toon]" if path.name == "pyproject.toml" else "")
        for key, value in _flatten(table, label).items():
            setting = _BY_KEY.get(key)
            if setting is None:
                raise ConfigError(f"{label}: unknown key '{key}'")
            try:
                cfg.values[key] = setting.check(value)
            except ValueError as e:
                raise ConfigError(f"{label}: '{key}': {e}") from None
            cfg.origins[key] = label
    for s in SETTINGS:
        if s.env and env.get(s.env):
            cfg.values[s.key] = s.check(env[s.env])
            cfg.origins[s.key] = f"environment {s.env}"
    return cfg
