"""The `calle` command's reference, generated from the command itself (docs/cli-reference.md).

Every subcommand with its one-line purpose, its arguments and options, their help texts and
defaults, as `--help` shows them: the document cannot drift from the code (a test compares).
"""

from __future__ import annotations

from typing import Any

import typer.main

# Typer carries its own copy of Click, so commands and parameters are read by their
# attributes (``list_commands``, ``param_type_name``) rather than by Click's classes.


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"


def _default(param: Any) -> str:
    if param.default is None or _is_argument(param) or getattr(param, "is_flag", False):
        return ""
    value = param.default
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else ""
    text = str(getattr(value, "value", value))
    return f"`{text}`" if text else ""


def _commands(group: Any, prefix: str) -> list[tuple[str, Any]]:
    out = []
    context = group.make_context(prefix.split()[-1], [], resilient_parsing=True)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        if hasattr(command, "list_commands"):
            out += _commands(command, f"{prefix} {name}")
        else:
            out.append((f"{prefix} {name}", command))
    return out


def cli_reference() -> str:
    from calle.cli import app

    root = typer.main.get_command(app)
    lines = [
        "# The `calle` command",
        "",
        "Generated from the code by `python -m calle.readme_sections`; a test keeps it current. "
        "Settings come from the environment (`CALLE_*`, see the README's configuration table).",
    ]
    for name, command in _commands(root, "calle"):
        summary = (command.help or "").strip().splitlines()[0] if command.help else ""
        lines += ["", f"## `{name}`", "", summary, ""]
        params = [p for p in command.params if p.name != "help"]
        if not params:
            lines.append("No arguments or options.")
            continue
        lines += ["| argument or option | what it is | default |", "|---|---|---|"]
        for param in params:
            if _is_argument(param):
                flag = f"`{param.name.upper()}`"
                text = getattr(param, "help", "") or ""
            else:
                flag = ", ".join(f"`{o}`" for o in param.opts)
                text = getattr(param, "help", "") or ""
            text = " ".join(text.split()).replace("|", "\\|")
            lines.append(f"| {flag} | {text} | {_default(param)} |")
    return "\n".join(lines) + "\n"
