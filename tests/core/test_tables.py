"""The one sanitiser every export cell goes through, and the CSV/XLSX writer around it."""
import csv
import io

import pytest
from openpyxl import load_workbook

from backend.core import tables
from backend.core.tables import cell


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "=1+1", "=", "+1+2", "+8613812345678", "-3", "-",
                                   "@SUM(A1)", "\tcmd", "\rcmd", "\r\n=1+1"])
def test_a_leading_formula_character_gets_a_quote_and_the_rest_survives(value):
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value,expected", [
    ("\x07响铃", "\ufffd响铃"),  # BEL
    ("张\x1b[31m三", "张\ufffd[31m三"),  # ESC: a terminal would read the rest as a command
    ("a\x00b\x08c\x0bd\x0ce\x0ef\x1fg", "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg"),  # XML 1.0 cannot hold these
    ("del\x7f c1\x85 csi\x9b", "del\ufffd c1\ufffd csi\ufffd"),  # DEL and C1 controls
    ("\ud800", "\ufffd"), ("x\ufffe\uffff", "x\ufffd\ufffd"),  # a lone surrogate, noncharacters XML refuses
    ("\u202e反向文字", "\ufffd反向文字"),  # RIGHT-TO-LEFT OVERRIDE
    ("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069",
     "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg\ufffdh\ufffd"),  # the other embeddings, overrides, isolates
    ("\x07=1+1", "\ufffd=1+1"),  # replaced, not dropped: no formula appears from what was hidden behind it
])
def test_controls_and_bidi_overrides_become_the_replacement_character(value, expected):
    assert cell(value) == expected


@pytest.mark.parametrize("value", [
    "创贷之家·任城驿站（济宁）", "张**", "贷款预审，拟贷 100,000 元，经营：餐饮", "2026-05-01 09:30", "HX000000000012",
    "第一行\n第二行", "a\tb", "a\rb",  # tab, LF, CR inside a text are text
    "#REF!", "'=already quoted", " =1+1", "٠\u200eabc",  # LRM is a mark, not an override: kept
    "",
])
def test_ordinary_text_is_untouched(value):
    assert cell(value) == value


@pytest.mark.parametrize("value", [-3, -2.5, 0, 12, 10**12, 199.99, None, True])
def test_numbers_and_empties_are_untouched(value):
    assert cell(value) is value


def test_xlsx_keeps_numbers_numeric_and_text_as_string_cells_on_every_sheet():
    body, mimetype, name = tables.export(
        name="demo-1", header=["编号", "=名称"], fmt="xlsx", title="=标题", widths=[10, 30],
        rows=[[1, "-3"], [-3, "#N/A"], [-2.5, "x" * 40_000]],
        sheets=[tables.Sheet("汇总", [["机构", "@机构"], ["合计", -100.5]], [20, 36])])
    assert mimetype == tables.XLSX and name == "demo-1.xlsx"
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["明细", "汇总"]
    detail, summary = book["明细"], book["汇总"]
    assert [[c.value for c in row] for row in detail.iter_rows(max_col=2, max_row=4)] == [
        ["'=标题", None], ["编号", "'=名称"], [1, "'-3"], [-3, "#N/A"]]
    assert [(c.value, c.data_type) for c in detail[4]] == [(-3, "n"), ("#N/A", "s")]  # text, not an error value
    assert detail["A5"].value == -2.5 and len(detail["B5"].value) == 32_767  # Excel's limit, not a failure
    assert [[c.value for c in row] for row in summary.iter_rows()] == [["机构", "'@机构"], ["合计", -100.5]]
    assert summary["B2"].data_type == "n"
    assert detail.column_dimensions["B"].width == 30 and summary.column_dimensions["B"].width == 36


def test_csv_has_a_bom_quotes_text_and_leaves_numbers_bare():
    body, mimetype, name = tables.export(name="demo-1", header=["编号", "=名称"], fmt="csv", title="标题",
                                         rows=[[-3, "-3"], [1.5, "\x1b\r\n+1"]],
                                         sheets=[tables.Sheet("汇总", [["不进 CSV"]])])
    assert mimetype == "text/csv; charset=utf-8" and name == "demo-1.csv"
    text = body.decode("utf-8")
    assert text.startswith("\ufeff编号,'=名称\r\n-3,'-3\r\n")  # no title, no extra sheet: the layout as before
    assert list(csv.reader(io.StringIO(text[1:], newline=""))) == [["编号", "'=名称"], ["-3", "'-3"],
                                                                   ["1.5", "\ufffd\r\n+1"]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_file_name_cannot_carry_a_newline_or_a_quote_into_the_header(fmt):
    _, _, name = tables.export(name='statement-1-20\n6-"1', header=["a"], rows=[], fmt=fmt)
    assert name == f"statement-1-20_6-_1.{fmt}"
