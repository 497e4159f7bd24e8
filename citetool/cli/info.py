"""Commands about citetool itself: ``config`` (its settings), ``styles`` (the CSL styles it ships).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from citetool.cli.app import app, configuration, handle_errors, out, say
from citetool.cli.output import print_rows


@app.command()
@handle_errors
def config(
    as_json: Annotated[bool, typer.Option("--json", help="The settings and their origins as JSON.")] = False,
) -> None:
    """Show the settings in effect and where each came from.

    Settings come from --store, then environment variables (CITETOOL_STORE,
    CITETOOL_MAILTO, ...), then citetool.toml in this folder or the nearest
    one above, then citetool.toml in your user config folder, then defaults.
    Example: citetool config
    """
    from citetool.configfile import FILENAME, user_file_path  # start-up: loaded only when needed

    conf = configuration()
    from citetool.keypattern import DEFAULT as DEFAULT_KEY_PATTERN  # start-up: loaded only when needed

    values = {
        "store": str(conf.store.absolute()),
        "mailto": conf.settings.mailto,
        "key-pattern": conf.key_pattern,
        "format": conf.format,
        "style": conf.style,
    }
    defaults = {"key-pattern": f"default: {DEFAULT_KEY_PATTERN}", "format": "default: bibtex",
                "style": "default: none (citetool's own html and text)"}
    origins = {name: conf.origins.get(name) or defaults.get(name, "not set") for name in values}
    files = [str(f.path) for f in conf.files]
    if as_json:
        out(json.dumps({"settings": {k: {"value": v, "from": origins[k]} for k, v in values.items()},
                        "files": files, "user-file": str(user_file_path())}, ensure_ascii=False, indent=2))
        return
    width = max(map(len, values))
    for name, value in values.items():
        shown = value if value is not None else "-"
        out(f"{name.ljust(width)}  {shown}  ({origins[name]})")
    out(f"{'files'.ljust(width)}  {', '.join(files) or f'no {FILENAME} found'}"
        f"  (looked in this folder and above, and {user_file_path()})")


@app.command()
@handle_errors
def styles(
    words: Annotated[list[str] | None, typer.Argument(help="Words the style's name or title holds (case and accents ignored).",
                                                      show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of {name, title, parent}.")] = False,
) -> None:
    """List the bundled CSL styles whose name or title holds every one of WORDS: name and title.

    A name goes to --style (case ignored). A journal's style that follows
    another's rules says so: "(as apa)".
    Example: citetool styles economic
    """
    from citetool.formats.style_catalogue import matching  # start-up: loaded only when needed

    text = " ".join(words) if words else None
    found = matching(text)
    if as_json:
        out(json.dumps([{"name": s.name, "title": s.title, "parent": s.parent} for s in found], ensure_ascii=False, indent=2))
    else:
        print_rows(("name", "title"), [(s.name, s.title + (f" (as {s.parent})" if s.parent else "")) for s in found],
                   one_line=True)
    if not found:
        say(f"no bundled CSL style's name or title holds {text!r}")
