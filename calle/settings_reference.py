"""The configuration reference, generated from :class:`calle.settings.Settings`.

`python -m calle.settings_reference` prints the Markdown table the README carries;
a test keeps the two identical.
"""

from __future__ import annotations

from pydantic import AliasChoices

from calle.settings import Settings


def _default_text(value: object) -> str:
    if isinstance(value, list):
        if len(value) > 6:
            return f"{','.join(value[:3])},…,{value[-1]} ({len(value)} values)"
        return ",".join(value)
    return "(see meaning)" if value is None else str(value)


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        variables = [f"{prefix}{name}".upper()]
        if isinstance(field.validation_alias, AliasChoices):
            variables = [str(choice) for choice in field.validation_alias.choices]
        names = " or ".join(f"`{v}`" for v in variables)
        rows.append(f"| {names} | `{_default_text(field.default)}` | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
