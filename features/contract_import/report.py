"""What an import did, table by table: for people (``render``) and for machines (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class TableReport:
    """Counts of one table; ``read == accepted + rejected`` always."""

    table: str
    file: str | None = None
    read: int = 0
    inserted: int = 0
    already_present: int = 0
    #: Exact repeats of an earlier row of the same file, accepted once.
    repeated: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.inserted + self.already_present + self.repeated

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "read": self.read,
            "accepted": self.accepted,
            "inserted": self.inserted,
            "already_present": self.already_present,
            "repeated": self.repeated,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "dropped_columns": list(self.dropped_columns),
        }


@dataclass
class ImportReport:
    import_id: str
    folder: Path
    started_at: datetime
    finished_at: datetime | None = None
    tables: list[TableReport] = field(default_factory=list)
    #: Where the rejected rows were written; None when nothing was rejected.
    rejects_dir: Path | None = None
    #: Kind (numeric/categorical) of each employer attribute the file carried.
    attributes: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> TableReport:
        for table in self.tables:
            if table.table == name:
                return table
        raise KeyError(name)

    @property
    def rejected(self) -> int:
        return sum(table.rejected for table in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "import_id": self.import_id,
            "folder": str(self.folder),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "rejects_dir": str(self.rejects_dir) if self.rejects_dir else None,
            "attributes": dict(sorted(self.attributes.items())),
            "tables": {table.table: table.to_dict() for table in self.tables},
        }

    def render(self) -> str:
        lines = [f"import {self.import_id} of {self.folder}"]
        header = ("table", "file", "read", "accepted", "inserted", "present", "repeated")
        lines.append(
            "{:<13} {:<20} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}".format(*header, "rejected")
        )
        for table in self.tables:
            lines.append(
                f"{table.table:<13} {table.file or '(none)':<20} {table.read:>10,} "
                f"{table.accepted:>10,} {table.inserted:>10,} {table.already_present:>10,} "
                f"{table.repeated:>9,} {table.rejected:>9,}"
            )
            for reason, count in sorted(table.rejected_by_reason.items()):
                lines.append(f"    rejected {count:,} × {reason}")
            if table.dropped_columns:
                lines.append(f"    dropped columns: {', '.join(table.dropped_columns)}")
        if self.attributes:
            kinds = ", ".join(f"{name} ({kind})" for name, kind in sorted(self.attributes.items()))
            lines.append(f"employer attributes: {kinds}")
        if self.rejects_dir is not None:
            lines.append(f"{self.rejected:,} rejected rows written to {self.rejects_dir}")
        else:
            lines.append("no rows rejected")
        return "\n".join(lines)
