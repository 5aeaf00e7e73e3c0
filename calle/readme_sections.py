"""Keep generated sections of the README in step with the code.

`python -m calle.readme_sections` rewrites every generated section in place; a test
fails when the README differs from what the code would write.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from calle.settings_reference import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
FEATURE_CATALOGUE = README.parent / "docs" / "feature-catalogue.md"
CLI_REFERENCE = README.parent / "docs" / "cli-reference.md"

#: The synthetic world's ``attr_*`` columns, as the import classifies them.
WORLD_ATTRIBUTES = {
    "attr_collective_agreement": "numeric",
    "attr_repse_registered": "numeric",
    "attr_women_share": "numeric",
}


def feature_catalogue() -> str:
    """The catalogue for Mexico's five categories and the synthetic world's attributes."""
    from calle.settings import MEXICO_CATEGORIES
    from features.catalogue import render_markdown
    from features.matrix import feature_specs

    specs = feature_specs(list(MEXICO_CATEGORIES), WORLD_ATTRIBUTES)
    return (
        "# Feature catalogue\n\n"
        "Generated from the code by `python -m calle.readme_sections`; a test keeps it current. "
        "Every feature is computed as of a date from events strictly before it. The `attr_*` "
        "rows are the synthetic world's; an inspectorate's own `attr_*` columns appear the "
        "same way. Each training run logs its own catalogue to MLflow.\n\n"
        f"{len(specs)} features.\n\n{render_markdown(specs)}\n"
    )


#: Section name -> the function producing its Markdown.
GENERATED: dict[str, Callable[[], str]] = {"settings-table": settings_table}


def render(text: str, sections: dict[str, Callable[[], str]] = GENERATED) -> str:
    for name, produce in sections.items():
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        if start not in text or end not in text:
            raise ValueError(f"README has no generated section {name!r}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}{produce()}\n{end}{tail}"
    return text


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    FEATURE_CATALOGUE.parent.mkdir(exist_ok=True)
    FEATURE_CATALOGUE.write_text(feature_catalogue())
    from calle.cli_reference import cli_reference

    CLI_REFERENCE.write_text(cli_reference())
    print(f"updated {README} and {FEATURE_CATALOGUE}")
