"""The plans' numeric targets (/work/shared/seeds), seeded for 2025 and 2026: reference data, so a fresh
database shows them (``flask programme seed-targets``, which ``flask seed-demo`` calls). Idempotent: a
target already there (perhaps edited by an administrator) is left as it is.

Yearly targets ("每年…", "年均…") are seeded for each year; a number due by a year ("到2025年…",
"到2026年…") is seeded for that year and after, with a note saying so; a cumulative number over the
plan's years says so in its note."""
from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.programme.enums import UNITS, Measure as M
from backend.programme.models import ProgrammeTarget

SHANDONG = "鲁政办字〔2024〕128号《山东省“创业齐鲁”行动方案（2024—2026年）》"
JINING = "济政办字〔2024〕50号《“创业济宁”五大行动方案》"
LICHENG = "济历城政办字〔2025〕3号《济南市历城区“益企发历 创赢历城”行动方案》"
GANGCHENG = "钢城政办字〔2022〕16号《济南市钢城区加快推进大众创业万众创新工作方案（2022-2025年）》"

YI = 100_000_000 * 100  # 1 亿元 in fen

# (region, measure, value, plan, years, note)
TARGETS = [
    # the province
    ("370000", M.events_held, 1000, SHANDONG, (2025, 2026), "每年举办各类创业促进活动不少于1000场"),
    ("370000", M.mentor_visits, 200, SHANDONG, (2025, 2026), "创业导师基层行公益活动全省每年不少于200场次"),
    ("370000", M.quality_projects, 1500, SHANDONG, (2025, 2026), "年均征集创业创新赛事优质项目不少于1500个"),
    ("370000", M.specialised_firms, 1000, SHANDONG, (2025, 2026), "每年培育专精特新企业1000家以上"),
    ("370000", M.featured_businesses, 1000, SHANDONG, (2025, 2026), "每年培育“名特优新”个体工商户1000家左右"),
    ("370000", M.talent_teams, 100, SHANDONG, (2025, 2026), "每年扶持高层次科技人才团队100个左右"),
    ("370000", M.guaranteed_loans, 150 * YI, SHANDONG, (2025, 2026), "每年新发放创业担保贷款150亿元以上"),
    ("370000", M.startup_streets, 40, SHANDONG, (2025, 2026), "到2025年底试点建设40家省级创业街区"),
    ("370000", M.people_supported, 300_000, SHANDONG, (2026,), "到2026年全省扶持创业30万人以上（累计）"),
    ("370000", M.jobs_created, 800_000, SHANDONG, (2026,), "到2026年带动就业80万人以上（累计）"),
    # Jining
    ("370800", M.events_held, 100, JINING, (2025, 2026), "每年举办各类创业促进活动不少于100场"),
    ("370800", M.mentor_visits, 20, JINING, (2025, 2026), "创业导师基层行公益活动全市每年不少于20场次"),
    ("370800", M.quality_projects, 150, JINING, (2025, 2026), "年均征集创业创新优质项目不少于150个"),
    ("370800", M.stations_in_service, 300, JINING, (2025, 2026), "到2025年底300家以上“创贷之家”服务驿站"),
    ("370800", M.startup_streets, 10, JINING, (2025, 2026), "到2025年底试点建设10家市级创业街区"),
    ("370800", M.startup_markets, 5, JINING, (2025, 2026), "到2025年底建设5家创业市场"),
    ("370800", M.mentor_studios, 30, JINING, (2026,), "到2026年全市创建30家创业导师工作室"),
    ("370800", M.people_supported, 11_000, JINING, (2025, 2026), "每年扶持创业1.1万人以上"),
    ("370800", M.jobs_created, 30_000, JINING, (2025, 2026), "每年带动就业3万人以上"),
    ("370800", M.specialised_firms, 100, JINING, (2025, 2026),
     "每年培育省级以上瞪羚、专精特新、单项冠军、“小巨人”企业100家以上"),
    ("370800", M.featured_businesses, 100, JINING, (2025, 2026), "每年培育“名特优新”个体工商户100家左右"),
    ("370800", M.guaranteed_loans, 12 * YI, JINING, (2025, 2026), "每年新发放创业担保贷款12亿元以上"),
    # Licheng
    ("370112", M.events_held, 20, LICHENG, (2025, 2026), "每年举办各类创业促进活动不少于20场"),
    ("370112", M.quality_projects, 12, LICHENG, (2025, 2026), "年均征集创业创新赛事优质项目不少于12个"),
    ("370112", M.specialised_firms, 10, LICHENG, (2025, 2026), "每年培育专精特新企业10家以上"),
    ("370112", M.featured_businesses, 10, LICHENG, (2025, 2026), "每年培育“名特优新”个体工商户10家左右"),
    ("370112", M.talent_teams, 1, LICHENG, (2025, 2026), "每年扶持不少于一个高层次科技人才团队"),
    ("370112", M.people_supported, 2000, LICHENG, (2026,), "到2026年全区扶持创业2000人以上（累计）"),
    ("370112", M.jobs_created, 5000, LICHENG, (2026,), "到2026年带动就业5000人以上（累计）"),
    ("370112", M.guaranteed_loans, 1 * YI, LICHENG, (2026,), "到2026年发放创业担保贷款1亿元以上（累计）"),
    # Gangcheng (its plan runs to 2025)
    ("370117", M.startup_training, 100, GANGCHENG, (2025,), "争取每年创业培训100人以上"),
    ("370117", M.skills_training, 4200, GANGCHENG, (2025,), "争取每年开展补贴性职业技能培训4200人以上"),
]


def rows() -> list[dict]:
    return [{"year": year, "region_code": region, "measure": measure, "value": value, "unit": UNITS[measure],
             "plan": plan, "note": note}
            for region, measure, value, plan, years, note in TARGETS for year in years]


def seed() -> int:
    """Add the plans' targets that are not there yet; returns how many were added."""
    have = {tuple(row) for row in db.session.execute(sa.select(ProgrammeTarget.year, ProgrammeTarget.region_code,
                                                               ProgrammeTarget.measure))}
    added = 0
    for row in rows():
        if (row["year"], row["region_code"], row["measure"]) not in have:
            db.session.add(ProgrammeTarget(**row))
            added += 1
    db.session.flush()
    return added
