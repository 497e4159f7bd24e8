"""Configuration files: a project's ``citetool.toml``, found upward from the
working directory (as git finds ``.git``), and the user's, in the platform's
config folder (``$XDG_CONFIG_HOME/citetool/citetool.toml`` on Linux).

What a setting comes from, first found wins: ``--store`` (the store only), the
environment variable, the project file, the user file, the default. A store
path in a file is relative to that file's folder. :func:`load` gives the
settings in effect and, for ``citetool config``, where each came from.

A file holds only these keys (anything else is a usage error naming the file,
so a typo is not silently ignored)::

    store = "refs/library.json"
    mailto = "you@example.org"
    key-pattern = "[auth:lower][year][veryshorttitle:lower]"
    format = "biblatex"
    style = "apa"
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from citetool.config import STORE_FILENAME, Settings, default_data_folder
from citetool.errors import UsageError

FILENAME = "citetool.toml"

# key in a file -> the environment variable that wins over it
KEYS = {
    "store": "CITETOOL_STORE",
    "mailto": "CITETOOL_MAILTO",
    "key-pattern": "CITETOOL_KEY_PATTERN",
    "format": "CITETOOL_FORMAT",
    "style": "CITETOOL_STYLE",
}


@dataclass(frozen=True)
class ConfigFile:
    """One configuration file, read and checked: its values by key."""

    path: Path
    values: dict[str, str]
    scope: str  # "project" or "user"

    def store_path(self) -> Path | None:
        """The store it names, relative to the file's folder (``~`` expanded)."""
        value = self.values.get("store")
        if value is None:
            return None
        return (self.path.parent / Path(value).expanduser()).absolute()


@dataclass(frozen=True)
class Configuration:
    """The settings in effect, the store path, and where each came from."""

    settings: Settings
    store: Path
    origins: dict[str, str] = field(default_factory=dict)  # setting -> where it came from
    files: tuple[ConfigFile, ...] = ()
    key_pattern: str | None = None
    format: str | None = None
    style: str | None = None


def find_project_file(cwd: Path) -> Path | None:
    """The nearest ``citetool.toml`` in ``cwd`` or a folder above it."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
    return None


def user_file_path() -> Path:
    """Where the user's file is looked for (it need not exist)."""
    from platformdirs import user_config_path

    return user_config_path("citetool", appauthor=False) / FILENAME


def read_file(path: Path, scope: str) -> ConfigFile:
    """A configuration file's values; a usage error (exit 2) naming the file
    for one that cannot be read, is not TOML, or holds an unknown key or a
    value that is not a non-empty string."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    values = {}
    for key, value in data.items():
        if key not in KEYS:
            raise UsageError(f"{path}: unknown setting {key!r}; a citetool.toml may set: {', '.join(KEYS)}")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{path}: {key} must be a non-empty string in quotes, e.g. {key} = \"...\"")
        values[key] = value.strip()
    return ConfigFile(path, values, scope)


def config_files(cwd: Path) -> tuple[ConfigFile, ...]:
    """The project's file (if any) then the user's (if any): the order they win in."""
    found = []
    project = find_project_file(cwd)
    if project is not None:
        found.append(read_file(project, "project"))
    user = user_file_path()
    if user.is_file() and (project is None or user.resolve() != project.resolve()):
        found.append(read_file(user, "user"))
    return tuple(found)


def load(store_option: str | Path | None = None, environ: Mapping[str, str] | None = None,
         cwd: Path | None = None) -> Configuration:
    """The settings in effect for a command run in ``cwd`` with ``environ``."""
    env = os.environ if environ is None else environ
    cwd = Path(cwd or Path.cwd())
    files = config_files(cwd)
    origins: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for key, variable in KEYS.items():
        if env.get(variable):
            chosen[key], origins[key] = env[variable], f"${variable}"
            continue
        source = next((f for f in files if key in f.values), None)
        if source is not None:
            chosen[key], origins[key] = source.values[key], f"{source.scope} file {source.path}"
    layered = dict(env)
    if "mailto" in chosen:
        layered["CITETOOL_MAILTO"] = chosen["mailto"]
    settings = Settings.from_env(layered)
    if "key-pattern" in chosen:
        from citetool.keypattern import compile_pattern  # start-up: loaded only when needed

        try:
            compile_pattern(chosen["key-pattern"])  # a pattern that cannot be read stops every command, as a bad variable
        except UsageError as exc:
            raise UsageError(f"{exc.message} (from {origins['key-pattern']})") from None
        settings = dataclasses.replace(settings, key_pattern=chosen["key-pattern"])
    store, origins["store"] = _store(store_option, env, files, cwd, origins.get("store"))
    if "mailto" not in origins:
        origins["mailto"] = "not set"
    return Configuration(settings, store, origins, files, chosen.get("key-pattern"), chosen.get("format"),
                         chosen.get("style"))


def _store(option, env: Mapping[str, str], files: tuple[ConfigFile, ...], cwd: Path,
           origin: str | None) -> tuple[Path, str]:
    """``--store`` > ``$CITETOOL_STORE`` > project file > ``./citetool.json``
    when it exists > user file > the user data folder."""
    if option:
        return Path(option).expanduser(), "--store"
    if env.get("CITETOOL_STORE"):
        return Path(env["CITETOOL_STORE"]).expanduser(), origin or "$CITETOOL_STORE"
    by_scope = {f.scope: f for f in files if f.store_path() is not None}
    if "project" in by_scope:
        return by_scope["project"].store_path(), f"project file {by_scope['project'].path}"
    local = cwd / STORE_FILENAME
    if local.exists():
        return local, "default: ./citetool.json exists"
    if "user" in by_scope:
        return by_scope["user"].store_path(), f"user file {by_scope['user'].path}"
    return default_data_folder() / STORE_FILENAME, "default: the user data folder"

