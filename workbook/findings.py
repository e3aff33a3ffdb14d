"""Findings: every problem found in a workbook, as data.

Modelled on frictionless-py's ``Error``/``Report``: a finding is a small immutable
record, a report is a list of them plus counts. The CLI, the Excel plugin and the
tests all consume the same objects.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Literal

from .language.text import display_width

Severity = Literal["error", "warning", "info"]
SEVERITY_LABEL = {"error": "错误", "warning": "警告", "info": "提示"}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: Severity = "error"
    file: str = ""
    sheet: str = ""
    cell: str = ""
    suggestion: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        where = "!".join(p for p in (self.sheet, self.cell) if p)
        parts = [SEVERITY_LABEL[self.severity], self.code]
        if where:
            parts.append(where)
        text = f"[{' '.join(parts)}] {self.message}"
        if self.suggestion:
            text += f"（建议：{self.suggestion}）"
        return text


class DubanError(Exception):
    """The command cannot run at all (unreadable file, wrong arguments)."""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def add(
        self, code: str, message: str, severity: Severity = "error", **where: str
    ) -> Finding:
        finding = Finding(code=code, message=message, severity=severity, **where)
        self.findings.append(finding)
        return finding

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def sorted(self) -> list[Finding]:
        return sorted(
            self.findings,
            key=lambda f: (f.file, _SEVERITY_ORDER[f.severity], f.sheet, _cell_key(f.cell)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "counts": self.counts(),
            "stats": self.stats,
            "findings": [f.to_dict() for f in self.sorted()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)

    def to_table(self) -> str:
        """A plain-text table for the terminal, one line per finding."""
        counts = self.counts()
        head = (
            f"{'通过' if self.valid else '未通过'}：错误 {counts['error']} 项，"
            f"警告 {counts['warning']} 项，提示 {counts['info']} 项"
        )
        rows = [("级别", "代码", "位置", "说明")]
        for f in self.sorted():
            where = "!".join(p for p in (f.sheet, f.cell) if p)
            if f.file:
                where = f"{f.file}:{where}" if where else f.file
            msg = f.message + (f"（建议：{f.suggestion}）" if f.suggestion else "")
            rows.append((SEVERITY_LABEL[f.severity], f.code, where, msg))
        if len(rows) == 1:
            return head
        widths = [max(display_width(r[i]) for r in rows) for i in range(3)]
        lines = [
            "  ".join(_pad(r[i], widths[i]) for i in range(3)) + "  " + r[3] for r in rows
        ]
        return "\n".join(lines + [head])


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _cell_key(cell: str) -> tuple[int, str]:
    letters = cell.rstrip("0123456789")
    digits = cell[len(letters):]
    return (int(digits) if digits else 0, letters)
