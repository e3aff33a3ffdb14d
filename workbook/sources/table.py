"""The plain table model every reader produces.

A published decomposition comes as tab-separated text, an Excel sheet, Word tables
or numbered paragraphs. Each reader turns its layout into :class:`SourceTable`s:
rows of cell texts, each cell knowing where it came from and whether its text was
filled in from a merged cell. Title, 附件, section, leader and note lines are rows
too (one text across the row), so one column-mapping step and one decomposition
step serve every layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..language.text import col_letter, normalise_text


@dataclass
class SourceCell:
    text: str
    ref: str = ""  # A1 reference within the table's sheet/section, as the user finds it
    merged_from: str = ""  # ref of the merged cell whose text was filled in here ("" when the cell is its own)


@dataclass
class SourceRow:
    cells: list[SourceCell]
    number: int  # 1-based line (text), row (sheet) or paragraph number, for messages
    hidden: bool = False

    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    def line(self) -> str | None:
        """The row's one text when it is a line (title, section, leader, note), else None.

        A line has a single non-empty cell, or several that are all copies of one
        merged cell (a category row merged across the table).
        """
        filled = [c for c in self.cells if c.text.strip()]
        if not filled:
            return None
        origin = filled[0].merged_from or filled[0].ref
        if all(c.merged_from and c.merged_from == origin for c in filled[1:]):
            return normalise_text(filled[0].text)
        return None

    def is_blank(self) -> bool:
        return not any(c.text.strip() for c in self.cells)


@dataclass
class SourceTable:
    name: str  # "工作表“Sheet1”", "表格2", "正文": where the user finds it
    rows: list[SourceRow] = field(default_factory=list)
    sheet: str = ""  # Finding.sheet for this table's cells

    def add_row(self, texts: list[str], number: int, hidden: bool = False) -> SourceRow:
        row = SourceRow([SourceCell(t, f"{col_letter(i + 1)}{number}") for i, t in enumerate(texts)],
                        number, hidden)
        self.rows.append(row)
        return row


@dataclass
class SourceDocument:
    file: str
    layout: str  # what the reader saw: 制表符分隔文本 (UTF-8), Excel 工作簿, Word 文档, 段落 …
    tables: list[SourceTable] = field(default_factory=list)
