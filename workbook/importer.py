"""``duban import``: a published decomposition in, a master workbook out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .checks import check_master
from .findings import DubanError, Report
from .master import Master, build_master, write_new_master
from .ooxml.lock import DEFAULT_WAIT
from .ooxml.safe_write import real_path
from .sources import read_document
from .sources.columns import parse_overrides
from .sources.decomposition import Decomposition, parse_document


@dataclass
class Imported:
    master: Master
    report: Report
    decomposition: Decomposition
    written: bool = False


def read_decomposition(source: Path, columns: str | None = None) -> Decomposition:
    """The tasks of ``source`` in any layout; ``columns`` is the ``--columns`` override."""
    return parse_document(read_document(Path(source)), parse_overrides(columns))


def import_decomposition(source: Path, year: int, period: str | None = None,
                         as_of: dt.date | None = None, columns: str | None = None) -> tuple[Master, Report]:
    """Parse ``source`` and build its master; the report holds parse and check findings."""
    result = _import(Path(source), year, period, as_of, columns)
    return result.master, result.report


def _import(source: Path, year: int, period: str | None, as_of: dt.date | None,
            columns: str | None) -> Imported:
    dec = read_decomposition(source, columns)
    master = build_master(dec, year, period, as_of, source_bytes=source.read_bytes())
    report = Report(findings=list(dec.report.findings))
    if dec.found:
        checked = check_master(master)
        report.extend(checked.findings)
        report.stats = dict(checked.stats)
    report.stats["declared_leaders"] = len(dec.leaders)
    return Imported(master, report, dec)


def import_to_file(source: Path, output: Path, year: int, period: str | None = None,
                   as_of: dt.date | None = None, force: bool = False,
                   columns: str | None = None, wait: float = DEFAULT_WAIT) -> tuple[Master, Report]:
    result = import_file(source, output, year, period, as_of, force, columns, wait)
    return result.master, result.report


def import_file(source: Path, output: Path, year: int, period: str | None = None,
                as_of: dt.date | None = None, force: bool = False, columns: str | None = None,
                wait: float = DEFAULT_WAIT) -> Imported:
    """Import and write the master, unless nothing was found (then nothing is written)."""
    if real_path(output) == real_path(source):
        raise DubanError(f"输出 {output} 就是要导入的分解方案，已拒绝：请给台账另起一个文件名")
    result = _import(Path(source), year, period, as_of, columns)
    if result.decomposition.found:
        write_new_master(result.master, output, force=force, wait=wait)
        result.written = True
    return result
