"""The region tree the programme runs in (GB/T 2260 codes): 山东省 → its cities → their districts.

The tree is data: the ``region`` table, seeded by migration e5a1c0de0004 from ``SEED`` below and
read back (once per process) by ``within``, ``children`` and ``name_of``. A code's place in the tree
is its ``parent_code``, never guessed from the digits. ``DISTRICTS`` (the district-level rows of the
seed) stays as the label list forms validate against and /api/meta serves."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db

PROVINCE = "370000"

# (code, name, parent code): the province, the two cities the programme serves first, their districts.
SEED: list[tuple[str, str, str | None]] = [
    (PROVINCE, "山东省", None),
    ("370100", "济南市", PROVINCE),
    ("370102", "历下区", "370100"),
    ("370103", "市中区", "370100"),
    ("370104", "槐荫区", "370100"),
    ("370105", "天桥区", "370100"),
    ("370112", "历城区", "370100"),
    ("370113", "长清区", "370100"),
    ("370114", "章丘区", "370100"),
    ("370115", "济阳区", "370100"),
    ("370116", "莱芜区", "370100"),
    ("370117", "钢城区", "370100"),
    ("370124", "平阴县", "370100"),
    ("370126", "商河县", "370100"),
    ("370800", "济宁市", PROVINCE),
    ("370811", "任城区", "370800"),
    ("370812", "兖州区", "370800"),
    ("370826", "微山县", "370800"),
    ("370827", "鱼台县", "370800"),
    ("370828", "金乡县", "370800"),
    ("370829", "嘉祥县", "370800"),
    ("370830", "汶上县", "370800"),
    ("370831", "泗水县", "370800"),
    ("370832", "梁山县", "370800"),
    ("370881", "曲阜市", "370800"),
    ("370883", "邹城市", "370800"),
]

LEVELS = {"province": "省", "city": "市", "district": "区县"}

_PARENTS = {code: parent for code, _, parent in SEED}
# Districts: the seed's leaves, Jining's first (the programme's home), then Jinan's.
DISTRICTS: dict[str, str] = {
    code: name for code, name, parent in sorted(SEED, key=lambda r: (r[2] != "370800", r[0]))
    if parent is not None and parent != PROVINCE
}


# Every code of the seed with its name: a batch belongs to the region that funds it (a district, a
# city or the province).
REGION_NAMES: dict[str, str] = {code: name for code, name, _ in SEED}


class Region(db.Model):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(32))
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code", ondelete="RESTRICT"), index=True)
    level: Mapped[str] = mapped_column(sa.String(8))


def seed_rows() -> list[dict]:
    """The seed as rows for the migration (and for a database a test builds itself)."""
    def level(code, parent):
        return "province" if parent is None else "city" if _PARENTS.get(parent) is None else "district"

    return [{"code": c, "name": n, "parent_code": p, "level": level(c, p)} for c, n, p in SEED]


@cache
def _tree() -> dict[str, tuple[str, str | None, str]]:
    """code -> (name, parent, level), read once per process from the table."""
    rows = db.session.execute(sa.select(Region.code, Region.name, Region.parent_code, Region.level)).all()
    return {code: (name, parent, level) for code, name, parent, level in rows}


def reload() -> None:
    """Forget the cached tree (after the table changes)."""
    _tree.cache_clear()
    within.cache_clear()


def exists(code: str) -> bool:
    return code in _tree()


def name_of(code: str | None) -> str | None:
    row = _tree().get(code) if code else None
    return row[0] if row else None


def level_of(code: str) -> str | None:
    row = _tree().get(code)
    return row[2] if row else None


def parent_of(code: str) -> str | None:
    row = _tree().get(code)
    return row[1] if row else None


def children(code: str) -> list[tuple[str, str]]:
    """(code, name) of the regions directly under ``code``, in code order."""
    return sorted((c, row[0]) for c, row in _tree().items() if row[1] == code)


def path(code: str) -> list[tuple[str, str]]:
    """(code, name) from the province down to ``code``."""
    out = []
    while code and code in _tree():
        out.append((code, _tree()[code][0]))
        code = _tree()[code][1]
    return out[::-1]


@cache
def within(code: str) -> frozenset[str]:
    """Every region code inside ``code``, itself included (a district: just itself)."""
    found, todo = set(), [code]
    tree = _tree()
    while todo:
        current = todo.pop()
        if current in found or current not in tree:
            continue
        found.add(current)
        todo.extend(c for c, row in tree.items() if row[1] == current)
    return frozenset(found)


def contains(outer: str, inner: str | None) -> bool:
    return inner is not None and inner in within(outer)
