"""A plan as an Excel workbook: one sheet per office, the rows a team takes into the field."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from service.planning import Plan

COLUMNS = (
    "rank",
    "employer_id",
    "name",
    "state",
    "sector",
    "score",
    "selection",
    "selection_probability",
)
#: Characters Excel refuses in a sheet name; names are at most 31 characters.
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(office: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARACTERS.sub("-", office)[:31] or "office"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def plan_workbook(plan: Plan, directory: dict[str, dict[str, str | None]]) -> bytes:
    """``directory``: per employer id, its name, state and sector as the store has them."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    offices = sorted({v.office for v in plan.visits}) or ["-"]
    for office in offices:
        sheet = book.create_sheet(sheet_name(office, taken))
        sheet.append([f"{plan.plan_id} · {office} · {plan.category} · {plan.as_of}"])
        sheet.append(list(COLUMNS))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for visit in plan.visits:
            if visit.office != office:
                continue
            entry = directory.get(visit.employer_id, {})
            sheet.append(
                [
                    visit.rank,
                    visit.employer_id,
                    entry.get("name"),
                    entry.get("state"),
                    entry.get("sector"),
                    None if visit.score is None else round(visit.score, 4),
                    visit.selection,
                    round(visit.selection_probability, 4),
                ]
            )
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
