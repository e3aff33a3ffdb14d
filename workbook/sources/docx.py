"""Word documents (.docx): every table in document order, and the paragraph layout.

A table split across pages is either one table whose header row repeats (one
header in the XML) or several tables each with its header; both read the same.
Merged cells are filled in and marked as copies, as in :mod:`.xlsx`. Paragraphs
before a table (title, 附件2, section) become its first rows; a document whose
paragraphs carry labelled lines (牵头单位：…) is the paragraph layout.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..findings import DubanError
from ..language.text import col_letter
from .paragraphs import LABEL, paragraph_table
from .table import SourceCell, SourceDocument, SourceRow, SourceTable

MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ENTRIES = 2000
_CN = "一二三四五六七八九十"


def _guard(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise DubanError(f"{path.name} 不是有效的 Word 文档（.docx）；旧版 .doc 请用 Word 或 WPS 另存为 .docx") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise DubanError(f"{path.name} 解压后过大，拒绝读取")
    if "word/document.xml" not in {i.filename for i in infos}:
        raise DubanError(f"{path.name} 不是 Word 文档（缺少 word/document.xml）")


def read_docx(path: Path) -> SourceDocument:
    _guard(path)
    import docx  # python-docx: only needed for Word sources
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types on a damaged file
        raise DubanError(f"无法读取 Word 文档 {path.name}：{type(exc).__name__}") from None
    doc = SourceDocument(path.name, "Word 文档")
    paragraphs: list[tuple[str, int]] = []  # every paragraph outside tables, numbered in document order
    pending: list[tuple[str, int]] = []  # those since the last table
    counters: dict[tuple[str, int], int] = {}
    n_par = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            doc.tables.append(_table(block, len(doc.tables) + 1, pending))
            pending = []
            continue
        n_par += 1
        text = _numbered(block, counters) + block.text
        if text.strip():
            paragraphs.append((text, n_par))
            pending.append((text, n_par))
    if any(LABEL.search(text) for text, _ in paragraphs):
        for table in doc.tables:  # the paragraphs belong to the paragraph table, not above a table
            table.rows = [r for r in table.rows if not r.cells or not r.cells[0].ref.startswith("第")]
        doc.tables.insert(0, paragraph_table(paragraphs, "正文"))
        doc.layout = "Word 文档（段落）"
    elif pending and doc.tables:
        last = doc.tables[-1]
        last.rows += [SourceRow([SourceCell(t, f"第{n}段")], n) for t, n in pending]
    elif pending:
        doc.tables.append(paragraph_table(paragraphs, "正文"))
    return doc


def _numbered(paragraph: Any, counters: dict[tuple[str, int], int]) -> str:
    """The number Word's automatic numbering shows (not in the text): 一、 at the top level, 1. below."""
    ppr = paragraph._p.pPr
    numpr = ppr.numPr if ppr is not None else None
    if numpr is None or numpr.numId is None:
        return ""
    num_id = str(numpr.numId.val)
    level = int(numpr.ilvl.val) if numpr.ilvl is not None else 0
    counters[(num_id, level)] = counters.get((num_id, level), 0) + 1
    for key in [k for k in counters if k[0] == num_id and k[1] > level]:
        del counters[key]
    n = counters[(num_id, level)]
    return f"{_CN[n - 1]}、" if level == 0 and n <= 10 else f"{n}."


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_TAGS = {f"{_W}t": None, f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n"}


def _cell_text(tc: Any) -> str:
    """A cell's text, its paragraphs on separate lines (what Word shows, tabs and line breaks included)."""
    lines = []
    for p in tc.iter(f"{_W}p"):
        parts = []
        for el in p.iter(*_TEXT_TAGS):
            fixed = _TEXT_TAGS[el.tag]
            parts.append(fixed if fixed is not None else (el.text or ""))
        lines.append("".join(parts))
    return "\n".join(lines)


def _val(parent: Any, path: str) -> str | None:
    el = parent.find(path)
    return None if el is None else el.get(f"{_W}val", "")


def _table(table: Any, index: int, before: list[tuple[str, int]]) -> SourceTable:
    """The rows of a Word table from its XML: a cell spanning columns (gridSpan) or continuing a
    vertical merge (vMerge) is filled in from its origin and marked as a copy.

    Read with plain lxml calls rather than python-docx's ``row.cells`` and properties, which
    recompute the grid and run XPath for every cell (a 2,000-row table took seconds).
    """
    name = f"表格{index}"
    out = SourceTable(name, sheet=name)
    out.rows = [SourceRow([SourceCell(t, f"第{n}段")], n) for t, n in before]
    above: dict[int, SourceCell] = {}  # grid column → the cell in the row above, for vMerge continue
    for r, tr in enumerate(table._tbl.iterchildren(f"{_W}tr"), start=1):
        cells: list[SourceCell] = []
        col = int(_val(tr, f"{_W}trPr/{_W}gridBefore") or 0)
        cells += [SourceCell("", f"{col_letter(c + 1)}{r}") for c in range(col)]
        for tc in tr.iterchildren(f"{_W}tc"):
            ref = f"{col_letter(col + 1)}{r}"
            merge = _val(tc, f"{_W}tcPr/{_W}vMerge")
            if merge in ("", "continue") and col in above:  # <w:vMerge/> means continue
                origin = above[col]
                first = SourceCell(origin.text, ref, origin.merged_from or origin.ref)
            else:
                first = SourceCell(_cell_text(tc), ref)
            cells.append(first)
            span = int(_val(tc, f"{_W}tcPr/{_W}gridSpan") or 1)
            for extra in range(1, span):
                cells.append(SourceCell(first.text, f"{col_letter(col + extra + 1)}{r}", first.merged_from or ref))
            col += span
        above = dict(enumerate(cells))
        out.rows.append(SourceRow(cells, r))
    return out
