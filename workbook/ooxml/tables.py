"""Formatted tables written with XlsxWriter: the look every duban sheet shares, for new workbooks.

openpyxl builds a model of every cell and hashes every style on assignment: a master of
20,000 tasks took it over ten seconds. XlsxWriter streams the same sheets in a fraction of
that. :mod:`workbook.ooxml.styles` gives sheets added to an existing workbook (through
openpyxl) the same look, from the same constants.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

from ..language.text import wrapped_lines

FONT_NAME = "宋体"
HEADER_FILL = "#DDEBF7"
INPUT_FILL = "#FFF2CC"
BORDER_COLOR = "#999999"
DATE_FORMAT = "yyyy-mm-dd"
LIGHT_COLORS = {"红": "#F8696B", "黄": "#FFEB84", "绿": "#63BE7B"}
MAX_LINES = 8  # a taller row is scrolled within, not printed over a page


class Tables:
    """Writes header-and-rows sheets into an XlsxWriter workbook, one shared set of formats."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self._formats: dict[tuple[str, str, bool], Any] = {}

    def format(self, kind: str = "body", number: str = "", wrap: bool = False) -> Any:
        key = (kind, number, wrap)
        if key not in self._formats:
            spec: dict[str, Any] = {"font_name": FONT_NAME, "font_size": 11, "border": 1,
                                    "border_color": BORDER_COLOR, "valign": "top"}
            if kind == "header":
                spec.update(bold=True, bg_color=HEADER_FILL, align="center", valign="vcenter", text_wrap=True)
            if number:
                spec["num_format"] = number
            if wrap:
                spec["text_wrap"] = True
            self._formats[key] = self.wb.add_format(spec)
        return self._formats[key]

    def sheet(self, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              widths: dict[str, float] | None = None, wrap: Iterable[str] = (), numbers: dict[str, str] | None = None,
              filter: bool = True, hidden: bool = False) -> tuple[Any, int]:
        """A sheet with a header row and data rows; returns it and the number of data rows.

        Text is always written as text (the workbook is opened with ``strings_to_formulas``
        off), dates get :data:`DATE_FORMAT`, ``numbers`` gives a number format by column.
        """
        ws = self.wb.add_worksheet(name)
        wrap, numbers = set(wrap), numbers or {}
        widths = {h: (widths or {}).get(h, max(8, len(h) * 2 + 2)) for h in headers}
        header = self.format("header")
        for c, title in enumerate(headers):
            ws.set_column(c, c, widths[title])
            ws.write_string(0, c, title, header)
        styles = [self.format(number=numbers.get(h, ""), wrap=h in wrap) for h in headers]
        wrapped = [(c, widths[h]) for c, h in enumerate(headers) if h in wrap]
        dates = [self.format(number=numbers.get(h, DATE_FORMAT), wrap=h in wrap) for h in headers]
        n = 0
        for n, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                if value is None or value == "":
                    if not hidden:  # a hidden sheet's empty cells need no borders: 80,000 fewer cells at 20,000 tasks
                        ws.write_blank(n, c, None, styles[c])
                elif isinstance(value, str):
                    ws.write_string(n, c, value, styles[c])
                elif isinstance(value, bool):
                    ws.write_boolean(n, c, value, styles[c])
                elif isinstance(value, (int, float)):
                    ws.write_number(n, c, value, styles[c])
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(n, c, value, dates[c])
                elif isinstance(value, dt.date):
                    ws.write_datetime(n, c, dt.datetime.combine(value, dt.time()), dates[c])
                else:
                    ws.write_string(n, c, str(value), styles[c])
            # Rows tall enough for their wrapped text: Excel, WPS and LibreOffice do not all fit them on opening.
            lines = max((wrapped_lines(str(values[c]), width) for c, width in wrapped
                         if c < len(values) and isinstance(values[c], str) and values[c]), default=1)
            if lines > 1:
                ws.set_row(n, 15 * min(lines, MAX_LINES))
        ws.freeze_panes(1, 0)
        if filter and headers:
            ws.autofilter(0, 0, max(n, 1), len(headers) - 1)
        if hidden:
            ws.hide()
        return ws, n


def print_setup(ws: Any, title_rows: int = 1, landscape: bool = True) -> None:
    """A4, fit to the page width, centred, with the header row repeated on every page."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if title_rows:
        ws.repeat_rows(0, title_rows - 1)
