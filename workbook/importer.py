"""``duban import``: a published decomposition in, a master workbook out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .checks import check_master
from .findings import Report
from .master import Master, build_master, write_new_master
from .sources.decomposition import parse_decomposition, read_source_rows


def import_decomposition(source: Path, year: int, period: str | None = None,
                         as_of: dt.date | None = None) -> tuple[Master, Report]:
    """Parse ``source`` and build its master; the report holds parse and check findings."""
    source = Path(source)
    dec = parse_decomposition(read_source_rows(source), source.name)
    master = build_master(dec, year, period, as_of, source_bytes=source.read_bytes())
    report = Report(findings=list(dec.report.findings))
    checked = check_master(master)
    report.extend(checked.findings)
    report.stats = dict(checked.stats, declared_leaders=len(dec.leaders))
    return master, report


def import_to_file(source: Path, output: Path, year: int, period: str | None = None,
                   as_of: dt.date | None = None, force: bool = False) -> tuple[Master, Report]:
    master, report = import_decomposition(source, year, period, as_of)
    write_new_master(master, output, force=force)
    return master, report
