"""Property-based mutation of valid unit workbooks, and a short fuzz run (issue #7)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import fuzz_zip
import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbook import form as F
from workbook.collect import collect
from workbook.master import read_master
from workbook.validate import context_from_master, validate_file

_STATE: dict[str, object] = {}


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    from corpus.make_corpus import build

    corpus = build(tmp_path_factory.mktemp("fuzz"))
    _STATE.update(clean=corpus.clean.read_bytes(), master=corpus.master,
                  ctx=context_from_master(read_master(corpus.master)))
    return corpus


values = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=False),
    st.dates(dt.date(1900, 1, 2), dt.date(2100, 1, 1)),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["已完成", "完成", "80%", "=1+1", "=HYPERLINK(\"x\")", "+1", "-1", "@A1", "１００", "𠀀😀"]),
)
cell_edit = st.tuples(st.just("cell"), st.integers(1, 20), st.integers(1, 14), values)
row_edit = st.tuples(st.sampled_from(["insert", "delete", "hide"]), st.integers(1, 20))
sheet_edit = st.tuples(st.sampled_from(["rename", "remove", "show_meta", "merge"]), st.integers(0, 2))
zip_edit = st.tuples(st.sampled_from(["drop", "truncate", "flip"]), st.integers(0, 10**6))
mutations = st.lists(st.one_of(cell_edit, row_edit, sheet_edit, zip_edit), min_size=1, max_size=4)


def apply(clean: bytes, edits: list[tuple]) -> bytes | None:
    wb = openpyxl.load_workbook(io.BytesIO(clean))
    raw_edits = []
    for edit in edits:
        kind = edit[0]
        ws = wb[F.FORM] if F.FORM in wb.sheetnames else wb.worksheets[0]
        if kind == "cell":
            _, r, c, v = edit
            try:
                ws.cell(r, c).value = v
            except Exception:  # openpyxl refuses some values (illegal characters); units cannot type them either
                pass
        elif kind == "insert":
            ws.insert_rows(edit[1])
        elif kind == "delete":
            ws.delete_rows(edit[1])
        elif kind == "hide":
            ws.row_dimensions[edit[1]].hidden = True
        elif kind == "rename":
            wb.worksheets[edit[1] % len(wb.worksheets)].title = f"表{edit[1]}"
        elif kind == "remove" and len(wb.worksheets) > 1:
            wb.remove(wb.worksheets[edit[1] % len(wb.worksheets)])
        elif kind == "show_meta" and F.META in wb.sheetnames:
            wb[F.META].sheet_state = "visible"
        elif kind == "merge":
            ws.merge_cells(f"F{4 + edit[1]}:H{4 + edit[1]}")
        else:
            raw_edits.append(edit)
    out = io.BytesIO()
    try:
        wb.save(out)
    except ValueError:  # e.g. only a very hidden sheet left: no unit could save that either
        return None
    data = out.getvalue()
    for kind, n in raw_edits:
        if not data:
            break
        if kind == "truncate":
            data = data[: n % len(data)]
        elif kind == "flip":
            b = bytearray(data)
            b[n % len(b)] ^= 0xFF
            data = bytes(b)
        elif kind == "drop":
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as z:
                    parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
            except Exception:  # an earlier byte-level edit broke the zip: nothing to drop from
                continue
            parts.pop(n % len(parts))
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for name, part in parts:
                    z.writestr(name, part)
            data = buf.getvalue()
    return data


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=mutations)
def test_mutated_workbooks_give_findings_and_never_reach_the_master_when_rejected(office, edits):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "市发改委_2026年6月.xlsx"
        data = apply(_STATE["clean"], edits)
        assume(data is not None)
        path.write_bytes(data)
        sub = validate_file(path, _STATE["ctx"])
        assert "file-unreadable" not in {f.code for f in sub.findings}, [str(f) for f in sub.findings]
        assert all(f.file and f.code and f.message for f in sub.findings)
        if not sub.valid:
            master = Path(tmp) / "总台账.xlsx"
            shutil.copy(_STATE["master"], master)
            before = master.read_bytes()
            collect([path], master)
            assert master.read_bytes() == before


def test_short_fuzz_run(office):
    ctx = context_from_master(read_master(office.master))
    assert fuzz_zip.run(office.clean, ctx, seconds=8, rng_seed=20261121) > 20
