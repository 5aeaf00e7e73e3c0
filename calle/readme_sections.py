"""Keep generated sections of the README in step with the code.

`python -m calle.readme_sections` rewrites every generated section in place; a test
fails when the README differs from what the code would write.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from calle.settings_reference import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"

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
    print(f"updated {README}")
