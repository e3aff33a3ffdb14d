"""Generate the hostile and broken corpus: ``python tests/corpus/make_corpus.py OUT_DIR``.

No binary is kept in the repository: every file is made here from a master
imported from the bundled sample, the unit workbooks ``duban split`` issues for
it, and byte-level edits. Each case names the finding codes it must produce and
whether the file must be rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1]))

import openpyxl  # noqa: E402
import zipcraft  # noqa: E402

from workbook import form as F  # noqa: E402
from workbook.filling import fill_unit_file  # noqa: E402
from workbook.importer import import_to_file  # noqa: E402
from workbook.master import read_master  # noqa: E402
from workbook.split import split_master, write_unit_workbooks  # noqa: E402

SOURCE = HERE.parents[1] / "samples" / "hohhot-2026" / "2026年重点工作任务分解方案.txt"
UNIT = "市发改委"  # 10 tasks: rows 4-13; footer 填报人 B15, 联系电话 B16, 填报日期 B17
AS_OF = dt.date(2026, 6, 30)


@dataclass
class Case:
    name: str
    file: Path
    codes: set[str]
    rejected: bool
    hostile: bool = False  # run in its own resource-limited subprocess too
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Corpus:
    master: Path
    clean: Path
    cases: list[Case]
    files: Path


def build(out: Path) -> Corpus:
    out.mkdir(parents=True, exist_ok=True)
    master = out / "总台账.xlsx"
    import_to_file(SOURCE, master, 2026, "2026-06", force=True)
    issued = out / "下发"
    shutil.rmtree(issued, ignore_errors=True)
    split_master(master, issued, units=[UNIT, "市财政局", "市民政局"], force=True, workers=1)
    clean = out / "clean.xlsx"
    shutil.copy(issued / f"{UNIT}_2026年6月.xlsx", clean)
    fill_unit_file(clean, AS_OF, seed=7, report_date=dt.date(2026, 6, 20))
    files = out / "files"
    shutil.rmtree(files, ignore_errors=True)
    files.mkdir()
    cases: list[Case] = []

    def case(name: str, codes: set[str], rejected: bool, make: Callable[[Path], Path | None],
             hostile: bool = False, file_name: str | None = None) -> None:
        path = files / (file_name or f"{UNIT}_2026年6月_{name}.xlsx")
        made = make(path) or path
        cases.append(Case(name, made, codes, rejected, hostile))

    def copy(path: Path) -> Path:
        shutil.copy(clean, path)
        return path

    def edit(change: Callable[[openpyxl.Workbook], None]) -> Callable[[Path], Path]:
        def make(path: Path) -> Path:
            copy(path)
            wb = openpyxl.load_workbook(path)
            change(wb)
            wb.save(path)
            return path
        return make

    def cells(**values: object) -> Callable[[Path], Path]:
        return edit(lambda wb: [wb[F.FORM].__setitem__(k, v) for k, v in values.items()])

    def raw(**kw: object) -> Callable[[Path], Path]:
        return lambda path: zipcraft.rewrite(clean, path, **kw)  # type: ignore[arg-type]

    def sheet_xml(change: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
        def make(path: Path) -> Path:
            part = zipcraft.sheet_part(clean, F.FORM)
            return zipcraft.rewrite(clean, path, replace={part: change(zipcraft.read(clean, part))})
        return make

    def text_cell(ref: str, text: str) -> Callable[[Path], Path]:
        """Put a *string* cell in the sheet XML (what a unit gets by typing '=... with a quote)."""
        from xml.sax.saxutils import escape

        def change(xml: bytes) -> bytes:
            import re

            cell = f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()
            pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.S)
            return pattern.sub(lambda m: cell, xml, count=1)
        return sheet_xml(change)

    def write(data: bytes) -> Callable[[Path], Path]:
        def make(path: Path) -> Path:
            path.write_bytes(data)
            return path
        return make

    # --- not a workbook at all
    case("empty", {"file-empty"}, True, write(b""))
    case("not_a_zip", {"file-format"}, True, write(random.Random(1).randbytes(4096)))
    case("truncated", {"file-corrupt"}, True, lambda p: p.write_bytes(clean.read_bytes()[:2500]) and p)
    case("not_a_workbook_zip", {"not-a-workbook"}, True, lambda p: _zip(p, {"readme.txt": b"hello"}))
    case("csv_renamed", {"file-format"}, True, write("任务编号,完成状态\n2026-001,已完成\n".encode("gbk")))
    case("xls_renamed", {"file-format"}, True, write(_xls_bytes()))
    case("et_file", {"file-format"}, True, write(_xls_bytes()), file_name=f"{UNIT}_2026年6月.et")
    case("encrypted", {"file-encrypted"}, True, write(_encrypted(clean)))

    # --- hostile zips and XML
    case("zip_bomb", {"zip-bomb"}, True, raw(add={"xl/media/bomb.xml": b"\0" * (120 * 1024 * 1024)}), hostile=True)
    case("too_many_entries", {"zip-too-many-entries"}, True,
         raw(add={f"xl/x/{i}.bin": b"" for i in range(800)}), hostile=True)
    case("duplicate_entries", {"zip-duplicate-entry"}, True,
         raw(duplicate=[(zipcraft.sheet_part(clean, F.FORM), b"<worksheet/>")]), hostile=True)
    case("path_traversal", {"zip-bad-path"}, True, raw(add={"../../evil.sh": b"rm -rf /"}))
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                         for i in range(1, 10))
              + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
    case("xml_billion_laughs", {"xml-dtd"}, True, raw(add={"xl/sharedStrings.xml": laughs}), hostile=True)
    case("xml_external_entity", {"xml-dtd"}, True, sheet_xml(lambda x: x.replace(
        b"<worksheet", b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet', 1)), hostile=True)
    case("dimension_xfd", {"sheet-too-large"}, True, sheet_xml(lambda x: _dimension(x, b"A1:XFD1048576").replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>')), hostile=True)
    case("rows_100k_formatted", {"sheet-too-large"}, True, sheet_xml(lambda x: x.replace(
        b"</sheetData>", b"".join(b'<row r="%d" s="1" customFormat="1"/>' % r for r in range(30, 100030))
        + b"</sheetData>")), hostile=True)
    case("macro_xlsm", {"macro-present"}, True, raw(add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 508}),
         file_name=f"{UNIT}_2026年6月.xlsm")
    case("external_link", {"external-link"}, True, raw(add={
        "xl/externalLinks/externalLink1.xml": b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'}))
    case("ole_embedded", {"embedded-object"}, True, raw(add={"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}))

    # --- payloads in input cells
    case("dde_formula", {"formula-in-cell"}, True, cells(I7="=cmd|' /C calc'!A0"))
    case("hyperlink_formula", {"formula-in-cell"}, True, cells(I7='=HYPERLINK("http://evil.example","点击查看")'))
    case("at_sum_text", {"formula-like-text"}, False, cells(J7="@SUM(1,2)"))
    case("plus_text", {"formula-like-text"}, False, cells(K7="+1+1"))
    case("minus_text", {"formula-like-text"}, False, cells(K8="-2+3"))
    case("equals_text", {"formula-like-text"}, False, text_cell("K9", "=cmd|' /C calc'!A0"))
    case("tab_text", {"formula-like-text"}, False, cells(K10="\t隐藏内容"))
    case("control_chars", {"control-characters"}, False, text_cell("I8", "进展_x0007_正常_x001B_"))
    case("emoji_ext_b", set(), False, cells(I9="已完成😀，涉及𠀀𪚥𫝀等生僻字"))
    case("text_10mb", {"text-too-long"}, True, text_cell(
        "I10", "".join(map(chr, random.Random(3).choices(range(0x4E00, 0x9FA5), k=3_400_000)))), hostile=True)

    # --- identity and tampering
    case("meta_deleted", {"meta-missing"}, True, edit(lambda wb: wb.remove(wb[F.META])))
    case("meta_edited", {"wrong-master"}, True, edit(lambda wb: wb[F.META].__setitem__("B1", "FFFFFFFFFFFFFFFF")))
    case("meta_visible", {"meta-visible"}, False, edit(lambda wb: setattr(wb[F.META], "sheet_state", "visible")))
    case("form_renamed", {"form-missing"}, True, edit(lambda wb: setattr(wb[F.FORM], "title", "Sheet1")))
    case("row_inserted", {"row-inserted"}, True, edit(lambda wb: wb[F.FORM].insert_rows(7)))
    case("row_deleted", {"row-deleted"}, True, edit(lambda wb: wb[F.FORM].delete_rows(7)))
    case("rows_reordered", {"row-moved"}, True, edit(_swap_rows))
    case("row_hidden", {"rows-hidden"}, False,
         edit(lambda wb: setattr(wb[F.FORM].row_dimensions[8], "hidden", True)))
    case("merged_inputs", {"merged-cells"}, True, edit(lambda wb: wb[F.FORM].merge_cells("I7:K7")))
    case("digest_recomputed", {"locked-cell-changed"}, True, edit(lambda wb: _tamper_and_rehash(wb, master)))
    case("duration_overflow", {"file-corrupt"}, True, edit(_duration_overflow), hostile=True)
    case("status_by_hand", {"status-invalid"}, True, cells(F7="完成"))
    case("progress_as_text", {"progress-as-text"}, False, cells(F8="序时推进", G8="80%"))
    case("dates_numbers_as_text", {"progress-as-text"}, False, cells(F8="序时推进", G8="75", B17="2026年6月25日"))
    case("other_master", {"wrong-master"}, True, lambda p: _other_master_file(out, p))
    case("last_month", {"wrong-period"}, True, lambda p: _last_month_file(master, p))
    case("two_files_older", {"superseded"}, False, cells(B17=dt.datetime(2026, 6, 18)),
         file_name=f"{UNIT}_2026年6月（第一版）.xlsx")
    case("two_files_newer", set(), False, cells(B17=dt.datetime(2026, 6, 24)),
         file_name=f"{UNIT}_2026年6月（第二版）.xlsx")
    case("chinese_name_spaces", {"name-mismatch"}, False, copy, file_name="发改 委 六月 填报 (副本).xlsx")
    case("clean", set(), False, copy, file_name="市财政局_2026年6月.xlsx")
    fill_unit_file(files / "市财政局_2026年6月.xlsx", AS_OF)  # a different unit, clean
    return Corpus(master, clean, cases, files)


def _zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _xls_bytes() -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("填报")
    sheet.write(0, 0, "任务编号")
    sheet.write(1, 0, "2026-001")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _encrypted(clean: Path) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with open(clean, "rb") as fh:
        OOXMLFile(fh).encrypt("123456", out)
    return out.getvalue()


def _dimension(xml: bytes, ref: bytes) -> bytes:
    import re

    return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', xml, count=1)


def _duration_overflow(wb: openpyxl.Workbook) -> None:
    # python-calamine panics (in Rust, printing to stderr) on an elapsed-time cell this large.
    cell = wb[F.FORM]["B17"]
    cell.value = 1e20
    cell.number_format = "[h]:mm:ss"


def _swap_rows(wb: openpyxl.Workbook) -> None:
    ws = wb[F.FORM]
    for c in range(1, len(F.COLUMNS) + 1):
        a, b = ws.cell(5, c), ws.cell(6, c)
        a.value, b.value = b.value, a.value


def _tamper_and_rehash(wb: openpyxl.Workbook, master: Path) -> None:
    ws = wb[F.FORM]
    ws["C7"] = "2027年12月底"  # push a deadline out, then recompute the digest inside the file
    rows = [[ws.cell(r, F.COL[c] + 1).value for c in F.LOCKED] for r in range(4, 14)]
    wb[F.META]["B8"] = F.locked_digest(read_master(master).settings.master_id, 2026, "2026-06", UNIT, rows)


def _other_master_file(out: Path, path: Path) -> Path:
    other = out / "其他台账.xlsx"
    import_to_file(SOURCE, other, 2025, "2025-06", force=True)
    written, _ = write_unit_workbooks(read_master(other), out, [UNIT], "2025-06", force=True)
    fill_unit_file(written[UNIT], dt.date(2025, 6, 30))
    shutil.move(written[UNIT], path)
    return path


def _last_month_file(master: Path, path: Path) -> Path:
    written, _ = write_unit_workbooks(read_master(master), path.parent, [UNIT], "2026-05", force=True)
    fill_unit_file(written[UNIT], dt.date(2026, 5, 31))
    shutil.move(written[UNIT], path)
    return path


if __name__ == "__main__":
    corpus = build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("corpus-out"))
    for c in corpus.cases:
        print(f"{c.name:24s} {'拒收' if c.rejected else '接收'}  {','.join(sorted(c.codes)) or '-'}  {c.file.name}")
    print(f"{len(corpus.cases)} files in {corpus.files}")
