"""Settings read from the environment, with the defaults documented in the README.

Read once per command (``Settings.from_env()``), never at import time, so tests
and scripts can set variables before calling in.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from citetool import __version__
from citetool.errors import UsageError

CROSSREF_URL = "https://api.crossref.org"
DOI_URL = "https://doi.org"
REPEC_URL = "https://econpapers.repec.org"
OPENLIBRARY_URL = "https://openlibrary.org"
STORE_FILENAME = "citetool.json"


def _float_env(name: str, default: float, allow_zero: bool = False, env: Mapping[str, str] | None = None,
               maximum: float = 86400.0, unit: str = "seconds") -> float:
    """A number from ``env``: finite, positive (or zero if ``allow_zero``), at
    most ``maximum``; anything else is a usage error naming the variable."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) or value > maximum:
        least = "0 or more" if allow_zero else "more than 0"
        raise UsageError(f"{name} must be a number of {unit}, {least} and at most {maximum:g}, not {raw!r}")
    return value


def _optional(env: Mapping[str, str], name: str, whole: bool = False, **limits) -> float | None:
    """:func:`_float_env` for a setting whose default is decided elsewhere (None when unset);
    ``whole``: a count, rounded, at least 1."""
    if not env.get(name):
        return None
    value = _float_env(name, 0.0, env=env, **limits)
    return max(1, round(value)) if whole else value


def _url_env(name: str, default: str, env: Mapping[str, str]) -> str:
    """A base URL from ``env``: http(s) with a host, else a usage error naming the variable."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(raw)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment
        if ok:
            _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        raise UsageError(f"{name} must be an http(s) base URL such as {default}, not {raw!r}")
    return raw.rstrip("/")


_SWITCH = {"1": True, "on": True, "yes": True, "true": True, "0": False, "off": False, "no": False, "false": False}


def _switch_env(name: str, default: bool, env: Mapping[str, str]) -> bool:
    """An on/off setting: 1/on/yes/true or 0/off/no/false (unset or empty: ``default``)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() not in _SWITCH:
        raise UsageError(f"{name} must be on or off (1/0, yes/no, true/false), not {raw!r}")
    return _SWITCH[raw.lower()]


@dataclass(frozen=True)
class Settings:
    crossref_url: str = CROSSREF_URL
    doi_url: str = DOI_URL
    repec_url: str = REPEC_URL
    openlibrary_url: str = OPENLIBRARY_URL
    mailto: str | None = None
    timeout: float = 20.0
    lock_timeout: float = 30.0
    cache_dir: Path | None = None  # None: the platform's user cache dir
    repec_interval: float = 1.0  # seconds between two EconPapers requests
    cache_max_age: float | None = None  # None: each source's own default
    crossref_rate: float | None = None  # single look-ups a second (None: by pool)
    crossref_list_rate: float | None = None  # list queries a second (None: by pool)
    crossref_concurrency: int | None = None  # requests in flight (None: by pool)
    retry_base: float = 1.0  # seconds: first back-off step after a 429/5xx
    export_cache: bool = True  # remember rendered entries between exports (formats/entry_cache.py)
    key_pattern: str | None = None  # how new keys are made (citetool/keypattern.py; None: the default pattern)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """From ``environ`` (default: the process's environment variables)."""
        env = os.environ if environ is None else environ
        return cls(
            crossref_url=_url_env("CITETOOL_CROSSREF_URL", CROSSREF_URL, env),
            doi_url=_url_env("CITETOOL_DOI_URL", DOI_URL, env),
            repec_url=_url_env("CITETOOL_REPEC_URL", REPEC_URL, env),
            openlibrary_url=_url_env("CITETOOL_OPENLIBRARY_URL", OPENLIBRARY_URL, env),
            mailto=env.get("CITETOOL_MAILTO") or None,
            timeout=_float_env("CITETOOL_TIMEOUT", 20.0, env=env),
            lock_timeout=_float_env("CITETOOL_LOCK_TIMEOUT", 30.0, env=env),
            cache_dir=Path(env["CITETOOL_CACHE_DIR"]).expanduser() if env.get("CITETOOL_CACHE_DIR") else None,
            repec_interval=_float_env("CITETOOL_REPEC_INTERVAL", 1.0, allow_zero=True, env=env),
            cache_max_age=_optional(env, "CITETOOL_CACHE_MAX_AGE", allow_zero=True, maximum=10 * 366 * 86400),
            crossref_rate=_optional(env, "CITETOOL_CROSSREF_RATE", maximum=10000, unit="requests a second"),
            crossref_list_rate=_optional(env, "CITETOOL_CROSSREF_LIST_RATE", maximum=10000, unit="requests a second"),
            crossref_concurrency=_optional(env, "CITETOOL_CROSSREF_CONCURRENCY", whole=True, maximum=100, unit="requests"),
            retry_base=_float_env("CITETOOL_RETRY_BASE", 1.0, allow_zero=True, env=env),
            export_cache=_switch_env("CITETOOL_EXPORT_CACHE", True, env),
        )

    def cache_path(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        from platformdirs import user_cache_path

        return user_cache_path("citetool", appauthor=False)

    @property
    def user_agent(self) -> str:
        """Identifies citetool; the mailto (if any) puts requests in Crossref's polite pool."""
        ua = f"citetool/{__version__} (https://github.com/citetool/citetool)"
        if self.mailto:
            ua += f" mailto:{self.mailto}"
        return ua


def default_data_folder() -> Path:
    """The platform's data folder for citetool (created when first needed)."""
    from platformdirs import user_data_path

    return user_data_path("citetool", appauthor=False)


def default_store_path(cwd: Path | None = None) -> Path:
    """``./citetool.json`` when it exists, else ``<user data dir>/citetool/citetool.json``."""
    local = (cwd or Path.cwd()) / STORE_FILENAME
    if local.exists():
        return local
    return default_data_folder() / STORE_FILENAME


def resolve_store_path(option: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """``--store PATH`` > ``CITETOOL_STORE`` (in ``environ``, default the process's) > :func:`default_store_path`."""
    if option:
        return Path(option).expanduser()
    env = (os.environ if environ is None else environ).get("CITETOOL_STORE")
    if env:
        return Path(env).expanduser()
    return default_store_path()
