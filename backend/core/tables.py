"""Tables people download: CSV (UTF-8 with BOM, so Excel on Windows reads the Chinese) or XLSX."""
from __future__ import annotations

import csv
import io

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(*, name: str, header: list[str], rows: list[list], fmt: str, title: str | None = None,
           widths: list[int] | None = None, sheet: str = "明细") -> tuple[bytes, str, str]:
    """Returns (body, content type, file name)."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", f"{name}.csv"
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    page = book.active
    page.title = sheet
    if title:
        page.append([title])
    page.append(header)
    for row in rows:
        page.append(row)
    for index, width in enumerate(widths or [], start=1):
        page.column_dimensions[get_column_letter(index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), XLSX, f"{name}.xlsx"
