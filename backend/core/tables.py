"""Tables people download: CSV (UTF-8 with BOM, so Excel on Windows reads the Chinese) or XLSX.

Every export goes through ``export`` and every text cell in it (title, header, rows, extra sheets)
through ``cell``, so what is stored can neither break a download nor act in the spreadsheet:

- characters XML 1.0 cannot hold (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF), the other
  controls no text needs (DEL, C1: a terminal reads ESC/CSI as commands) and the bidi embeddings,
  overrides and isolates that make text read in another order (U+202A–U+202E, U+2066–U+2069,
  "Trojan Source") each become U+FFFD. Replaced rather than dropped: the reader sees that the stored
  value held something, and two different stored names never print the same;
- a text that then begins with = + - @ tab or CR gets a leading ' (OWASP's CSV injection rule), and
  in XLSX every text is a string cell, never a formula (nor an error value such as ``#REF!``).

Numbers stay numbers (a negative amount is a number cell, not text)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    """A further worksheet of an XLSX (a CSV carries only the main table)."""

    name: str
    rows: list[list]
    widths: list[int] = field(default_factory=list)


def cell(value):
    """What a stored value becomes in a cell: text made safe (see above), anything else as it is."""
    if not isinstance(value, str):
        return value
    text = UNSAFE.sub("\ufffd", value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export(*, name: str, header: list[str], rows: list[list], fmt: str, title: str | None = None,
           widths: list[int] | None = None, sheet: str = "明细", sheets: list[Sheet] = ()) -> tuple[bytes, str, str]:
    """Returns (body, content type, file name)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # it goes into a header
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([cell(v) for v in header])
        writer.writerows([cell(v) for v in row] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{name}.csv"
    from openpyxl import Workbook

    book = Workbook()
    main = book.active
    main.title = sheet
    _fill(main, ([[title]] if title else []) + [header] + list(rows), widths or [])
    for extra in sheets:
        _fill(book.create_sheet(extra.name), extra.rows, extra.widths)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX, f"{name}.xlsx"


def _fill(page, rows, widths: list[int]) -> None:
    from openpyxl.cell import Cell
    from openpyxl.utils import get_column_letter

    for row in rows:
        cells = []
        for value in row:
            item = Cell(page, value=cell(value))
            if isinstance(item.value, str):
                item.data_type = "s"  # text is text: never a formula or an error value
            cells.append(item)
        page.append(cells)
    for index, width in enumerate(widths, start=1):
        page.column_dimensions[get_column_letter(index)].width = width
