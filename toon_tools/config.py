"""Settings: ``[tool.toon]`` in pyproject.toml or a ``.toon.toml``, found by walking
up from the working folder; environment variables; defaults.

Each setting remembers where its value came from, for ``toon config``. Unknown
keys are errors that name the key, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from .errors import ToolError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib


class ConfigError(ToolError, ValueError):
    """A configuration file is unreadable or says something we do not accept (exit 2)."""


@dataclass(frozen=True)
class Setting:
    key: str  # dotted: "tokens.encoding"
    default: Any
    check: Callable[[Any], Any]  # returns the value converted, or raises ValueError
    help: str
    env: str | None = None
    #: Holds a secret (a password in a URL): ``Config[key]`` and ``toon config``
    #: show it redacted; the value itself is ``Config.secret(key)``.
    secret: bool = False


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


def _exclude_patterns(v: Any) -> list[str]:
    patterns = _str_list(v)
    for pattern in patterns:
        try:
            ExcludeRules([pattern])
        except re.error as e:
            raise ValueError(f"pattern {pattern!r} is not a valid pattern ({e})") from None
    return patterns


def _schema_map(v: Any) -> dict[str, str]:
    if not isinstance(v, dict):
        raise ValueError("expected a table of \"glob\" = \"schema file\"")
    for pattern, schema in v.items():
        if not isinstance(schema, str) or not schema:
            raise ValueError(f"{pattern!r}: expected the path of a schema file")
        if pattern.strip().startswith("!") or not pattern.strip() \
                or pattern.strip().startswith("#"):
            raise ValueError(f"{pattern!r}: expected a pattern that names files")
        try:
            ExcludeRules([pattern])
        except re.error as e:
            raise ValueError(f"pattern {pattern!r} is not a valid pattern ({e})") from None
    return dict(v)


def _encoding(v: Any) -> str:
    name = _str(v)
    # Only a configured encoding is checked, so only then is the table imported.
    from .tokens.vocab import VOCABULARIES

    if name not in VOCABULARIES:
        raise ValueError(f"unknown encoding {name!r} (known: {', '.join(sorted(VOCABULARIES))})")
    return name


def _twin_suffix(v: Any) -> str:
    suffix = _str(v)
    if not suffix or "/" in suffix or "\\" in suffix or "\0" in suffix:
        raise ValueError("expected a non-empty file-name ending without a slash, like '.md'")
    if suffix.endswith(".toon"):
        raise ValueError("a twin's name must not end in .toon: it would be taken for a source")
    return suffix


def _inside_path(v: Any) -> str:
    path = _str(v)
    parts = path.replace("\\", "/").split("/")
    if not path or os.path.isabs(path) or path.startswith(("/", "\\")) or ".." in parts:
        raise ValueError("expected a relative folder inside the project, without '..'")
    return path


def _prices(v: Any) -> Any:
    # Only a configured table is checked, so only then is the pipeline imported.
    from .pipeline.prices import parse_prices

    return parse_prices(v)


def _cache_url(v: Any) -> str | None:
    from .remote_cache import check_url

    return None if v is None or v == "" else check_url(v)


def _cache_ttl(v: Any) -> int:
    from .remote_cache import parse_ttl

    return parse_ttl(v)


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
    Setting("cache-url", None, _cache_url,
            "A Redis or Valkey server shared by a team or a CI fleet (redis://host:6379/0, "
            "rediss://..., unix:///path?db=0): token counts and model replies are looked up "
            "there after the local cache, and stored in both. TOON_CACHE_URL wins over the "
            "file; a password in it is never shown.", env="TOON_CACHE_URL", secret=True),
    Setting("cache-ttl", 7 * 86_400, _cache_ttl,
            "How long the shared cache keeps a value: seconds, or a duration like '30d' "
            "(s, m, h, d, w); default 7 days; 0 keeps values until the server evicts them.",
            env="TOON_CACHE_TTL"),
    Setting("exclude", [], _exclude_patterns,
            "Gitignore-style patterns (relative to the config file's folder) of files "
            "that every command and both hook routes skip."),
    Setting("schemas", {}, _schema_map,
            "Gitignore-style patterns (relative to the config file's folder) mapped to the "
            "JSON Schema (a JSON or TOON file, relative to the config file's folder) that "
            "toon check and both hook routes apply to the files they match; the last "
            "matching pattern wins, and a file's own '# schema: path' first line wins "
            "over the table."),
    Setting("tokens.encoding", "o200k_base", _encoding, "tiktoken encoding for token counts."),
    Setting("tokens.budget", None, _opt_positive_int, "Token budget for all files together."),
    Setting("tokens.per-file-budget", None, _opt_positive_int, "Token budget for any one file."),
    Setting("twins.location", "beside", _choice("beside", "mirror"),
            "Markdown twins beside their source, or in a mirror folder."),
    Setting("twins.dir", "docs/toon", _inside_path,
            "The mirror folder (twins.location = mirror), relative to the config file's folder."),
    Setting("twins.suffix", ".md", _twin_suffix, "Suffix that replaces .toon in a twin's name."),
    Setting("pipeline.prices", {}, _prices,
            "Dollars per million tokens by model, over the built-in table."),
)
_BY_KEY: Final = {s.key: s for s in SETTINGS}
_TABLES: Final = {k.split(".", 1)[0] for k in _BY_KEY if "." in k}


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # the file the values came from, if any
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)  # secret settings' values

    def secret(self, key: str) -> Any:
        """A secret setting's value itself (``self[key]`` is its redacted form)."""
        return self.secrets.get(key, self.values[key])

    def cache_url(self) -> str | None:
        """The shared cache's URL, password included; None: no shared cache."""
        url: str | None = self.secret("cache-url")
        return url

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def root(self) -> Path:
        """Folder that relative paths in the config file are relative to."""
        return self.file.parent if self.file else Path.cwd()

    @cached_property
    def _exclude(self) -> ExcludeRules:
        return ExcludeRules(self.values["exclude"])

    def excluded(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``exclude`` covers ``path`` (relative to the working folder, or
        absolute). Paths outside the config file's folder are never excluded."""
        rules = self._exclude
        if not rules:
            return False
        try:
            rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root))
        except ValueError:
            return False
        return rules.match(rel.as_posix())

    @cached_property
    def _schema_rules(self) -> list[tuple[ExcludeRules, str]]:
        return [(ExcludeRules([pattern]), schema)
                for pattern, schema in self.values["schemas"].items()]

    def schema_for(self, path: str | os.PathLike[str]) -> Path | None:
        """The schema ``[tool.toon.schemas]`` maps ``path`` to (the last matching
        pattern wins), absolute; None when no pattern matches, or ``path`` is
        outside the config file's folder."""
        rules = self._schema_rules
        if not rules:
            return None
        root = os.path.abspath(self.root)
        try:
            rel = Path(os.path.abspath(path)).relative_to(root).as_posix()
        except ValueError:
            return None
        found = None
        for patterns, schema in rules:
            if patterns.match(rel):
                found = schema
        return None if found is None else Path(root, os.path.expanduser(found))

    def cache_dir(self) -> Path:
        value = self.values["cache-dir"]
        if value is None:
            import platformdirs

            return Path(platformdirs.user_cache_dir("toon-tools", appauthor=False))
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else self.root / path


#: Reads a file's bytes for :func:`load_config`; None when there is no such file.
Reader = Callable[[Path], bytes | None]


def find_config_file(start: Path, read: Reader | None = None
                     ) -> tuple[Path, Mapping[str, Any]] | None:
    """The nearest ``.toon.toml``, or pyproject.toml with a [tool.toon] table,
    walking up from ``start``; None if there is none. ``read`` gives the files'
    bytes (the hooks read them as the git index holds them); by default, the disk."""
    start = start.resolve()
    read = read or _read_file
    for folder in (start, *start.parents):
        dot = folder / ".toon.toml"
        data = read(dot)
        if data is not None:
            return dot, _parse_toml(dot, data)
        pyproject = folder / "pyproject.toml"
        data = read(pyproject)
        if data is not None:
            table = _parse_toml(pyproject, data).get("tool", {}).get("toon")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{pyproject}: [tool.toon] must be a table")
                return pyproject, table
    return None


def _read_file(path: Path) -> bytes | None:
    """A regular file's bytes (following links); None if there is none."""
    if not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None


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


def load_config(start: Path | None = None, env: Mapping[str, str] | None = None, *,
                read: Reader | None = None) -> Config:
    """Resolve every setting: environment over config file over default. ``read``
    gives the config files' bytes (None: no such file) instead of the disk: the
    standalone hook reads them from the git index, as the framework's route sees
    them, and HEAD's table is read the same way (toon_tools.hooks.config_view)."""
    env = os.environ if env is None else env
    cfg = Config()
    for s in SETTINGS:
        cfg.values[s.key] = s.default
        cfg.origins[s.key] = "default"
    found = find_config_file(start or Path.cwd(), read)
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
            try:
                cfg.values[s.key] = s.check(env[s.env])
            except ValueError as e:
                raise ConfigError(f"environment {s.env}: {e}") from None
            cfg.origins[s.key] = f"environment {s.env}"
    for s in SETTINGS:
        if s.secret and cfg.values[s.key] is not None:
            from .remote_cache import redact

            cfg.secrets[s.key] = cfg.values[s.key]
            cfg.values[s.key] = redact(cfg.values[s.key])
    return cfg


class ExcludeRules:
    """Patterns with gitignore(5) meaning, matched against paths relative to the
    config file's folder:

    - ``name`` (no slash) matches a file or folder of that name at any depth;
    - a pattern with a slash (``docs/*.toon``, ``/top.toon``) is anchored at the root;
    - a trailing ``/`` matches folders only; anything below a matched folder is excluded;
    - ``*``, ``?`` and ``[...]`` stop at ``/``; ``**`` crosses folders;
    - ``!pattern`` re-includes; the last pattern that matches decides.
    """

    def __init__(self, patterns: list[str]) -> None:
        self._rules: list[tuple[re.Pattern[str], bool, bool]] = []  # (regex, negated, dirs only)
        for raw in patterns:
            pattern = raw.strip()
            if not pattern or pattern.startswith("#"):
                continue
            negated = pattern.startswith("!")
            pattern = pattern[1:] if negated else pattern
            dirs_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if not pattern:
                continue
            anchored = "/" in pattern
            body = _glob_to_regex(pattern.lstrip("/"))
            self._rules.append((re.compile(body if anchored else f"(?:.*/)?{body}", re.S),
                                negated, dirs_only))

    def __bool__(self) -> bool:
        return bool(self._rules)

    def match(self, rel: str) -> bool:
        parts = rel.split("/")
        folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
        verdict = False
        for regex, negated, dirs_only in self._rules:
            candidates = folders if dirs_only else [*folders, rel]
            if any(regex.fullmatch(c) for c in candidates):
                verdict = not negated
        return verdict


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 2 if glob.startswith(("[!", "[^"), i) else i + 1)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
                continue
            inner = glob[i + 1:end]
            if inner[:1] in ("!", "^"):
                inner = "^" + inner[1:]
            out.append(f"(?!/)[{inner.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)
