"""The dashboard as an XLSX workbook for the monthly report to the city: an overview sheet, then one
sheet per section with the same numbers the API gives (amounts in 元 where the API gives fen)."""
from __future__ import annotations

from backend.core import tables

MONTHS = [f"{m}月" for m in range(1, 13)]


def _money(section: dict):
    return (lambda v: None if v is None else round(v / 100, 2)) if section["money"] else (lambda v: v)


def _unit_name(section: dict) -> str:
    """The API counts money in fen (分), like every amount of the platform; the workbook in 元."""
    return "元" if section["money"] else section["unit"]


def _unit(section: dict) -> str:
    return f"（{_unit_name(section)}）"


def _ratio(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _sheet(section: dict) -> tables.Sheet:
    m = _money(section)
    rows: list[list] = [[section["title"] + _unit(section)],
                        ["年度目标", "实际完成", "序时进度目标", "完成率", "状态", "目标出处"],
                        [m(section["target"]), m(section["actual"]), m(section["expected_by_now"]),
                         _ratio(section["ratio"]), section["status_label"] or "未设目标", section["plan"] or ""],
                        [],
                        ["月份", *MONTHS],
                        ["实际" + ("（月末数）" if section["stock"] else ""), *[m(v) for v in section["by_month"]]]]
    if section["key"] == "station_visits":
        rows.append(["服务人数（去重）", *section["people_served_by_month"]])
    if section["key"] == "vouchers":
        rows.append(["发放", *[m(v) for v in section["issued_by_month"]]])
        rows.append(["兑付", *[m(v) for v in section["settled_by_month"]]])
    if section["key"] == "loans":
        for step in section["steps"]:
            shown = (lambda v: round(v / 100, 2)) if step["money"] else (lambda v: v)
            rows.append([step["label"] + ("（元）" if step["money"] else ""), *[shown(v) for v in step["by_month"]]])
    labels = [s["label"] for s in section.get("steps", [])]
    rows += [[], ["地区 / 场所", "实际", "目标", *labels]]
    for row in section["by_region"]:
        extra = [round(row["steps"][s["key"]] / 100, 2) if s["money"] else row["steps"][s["key"]]
                 for s in section.get("steps", [])]
        rows.append([row["name"], m(row["actual"]), m(row["target"]), *extra])
    if section["key"] == "station_visits":
        rows += [[], ["到访目的", "人次"], *[[p["label"], p["count"]] for p in section["by_purpose"]],
                 ["服务人数（去重）", section["people_served"]]]
    if section["key"] == "vouchers":
        rows += [[], ["预算", "发放", "核销", "兑付"],
                 [m(section["budget"]), m(section["issued"]), m(section["redeemed"]), m(section["settled"])],
                 [], ["批次", "区县", "预算", "发放", "核销", "兑付"],
                 *[[b["name"], b["district_name"], m(b["budget"]), m(b["issued"]), m(b["redeemed"]), m(b["settled"])]
                   for b in section["by_batch"]],
                 [], ["类别", "核销"], *[[c["label"], m(c["amount"])] for c in section["by_category"]]]
    return tables.Sheet(name=section["title"][:31], rows=rows, widths=[22] + [12] * 12)


def workbook(report: dict) -> tuple[bytes, str, str]:
    header = ["指标", "单位", "年度目标", "实际完成", "序时进度目标", "完成率", "状态", "目标出处"]
    rows = []
    for section in report["sections"]:
        m = _money(section)
        rows.append([section["title"], _unit_name(section), m(section["target"]), m(section["actual"]),
                     m(section["expected_by_now"]), _ratio(section["ratio"]), section["status_label"] or "未设目标",
                     section["plan"] or ""])
    for other in report["other_targets"]:
        value = round(other["target"] / 100, 2) if other["money"] else other["target"]
        rows.append([other["label"], other["unit"], value, None, None, "", "平台不统计", other["plan"]])
    title = (f"{report['region_name']} {report['year']} 年创业项目看板（截至 {report['as_of'][:10]}，"
             f"序时进度 {report['share_elapsed'] * 100:.1f}%）")
    return tables.export(name=f"dashboard-{report['region']}-{report['year']}", header=header, rows=rows,
                         fmt="xlsx", title=title, sheet="总览", widths=[22, 6, 14, 14, 14, 10, 14, 60],
                         sheets=[_sheet(s) for s in report["sections"]])
