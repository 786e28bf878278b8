"""The programme dashboard: for a year and a region, each measure's actual beside its target and the
序时进度 (the target times the share of the year gone, Beijing time), by month and by the region's
children (province → cities → districts → places).

Every figure is one set-based query per measure, grouped by the child region and the local month
(and purpose, category, batch where a section shows them) — never a query per place.

What counts:
- events: published events that started in the year, by now; attendance: their door check-ins.
- mentor_visits: events of kind 导师基层行 (mentor_visit). A station visit's purpose 创业指导 is a
  consultation at a counter, not the 创业导师基层行 activity the plans count, so it is not one.
- station_visits: visits recorded at any place (spaces, streets, markets, 创贷之家), by purpose, and
  the distinct people they served (counted distinct at each level, never summed from below).
- stations_in_service: active 创贷之家 stations registered by each month's end (a stock).
- vouchers: money of batches issued in the region (the batch's district): budget of the batches whose
  claim window opens in the year; issued (ledger), redeemed (not reversed) and settled (on a paid
  statement) in the year. Amounts are fen.
- providers_listed: providers listed (approved, public notice over) by each month's end (a stock).
- loans: 创业担保贷款 disbursed in the year (amount, by the case's station: its district, or the
  station at district level); beside it the cases' steps taken in the year — consultations opened,
  pre-checks passed, referrals to a bank, loans disbursed (count) — and the subsidy paid on the
  banks' statements marked paid in the year. Amounts are fen.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from backend.checkins.enums import PURPOSE_LABELS, VisitPurpose
from backend.checkins.models import Visit
from backend.core import regions
from backend.core.db import total
from backend.core.localtime import LOCAL
from backend.events.enums import EventKind, EventState
from backend.events.models import Event, Registration
from backend.extensions import db
from backend.loans.enums import StatementState as LoanStatementState
from backend.loans.models import LoanCase, LoanEvent, SubsidyLine, SubsidyStatement
from backend.places.enums import PlaceKind
from backend.places.models import Place
from backend.programme.enums import COUNTED, MEASURE_LABELS, MONEY, Measure, Status
from backend.programme.models import ProgrammeTarget
from backend.vouchers.enums import CATEGORY_LABELS, BatchState, LedgerKind, ProviderStatus, StatementState
from backend.vouchers.models import LedgerEntry, Provider, Redemption, SettlementStatement, Voucher, VoucherBatch

SECTIONS = [  # key, title, unit, the measure whose target stands beside it
    ("events", "创业促进活动", "场", Measure.events_held),
    ("attendance", "活动签到人次", "人次", Measure.event_attendance),
    ("mentor_visits", "创业导师基层行", "场", Measure.mentor_visits),
    ("station_visits", "场所到访", "人次", Measure.station_visits),
    ("stations_in_service", "在运营创贷之家驿站", "个", Measure.stations_in_service),
    ("vouchers", "创业券核销", "分", Measure.vouchers_redeemed),  # money: fen, as every amount of the API
    ("providers_listed", "入库服务机构", "家", Measure.providers_listed),
    ("loans", "创业担保贷款发放", "分", Measure.guaranteed_loans),
]
LOAN_STEPS = {"open": "consultations", "precheck": "prechecks_passed", "refer": "referrals", "disburse": "disbursed"}
LOAN_STEP_LABELS = {"consultations": "咨询受理", "prechecks_passed": "预审通过", "referrals": "转介银行",
                    "disbursed": "放款笔数", "subsidy_paid": "贴息拨付"}
STOCKS = {"stations_in_service", "providers_listed"}  # counted at a moment, not summed over months


# --- time ----------------------------------------------------------------------------------------

def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=LOCAL), datetime(year + 1, 1, 1, tzinfo=LOCAL)


def share_elapsed(year: int, now: datetime) -> float:
    """The share of the year gone at ``now`` (Beijing time), 0 before it starts, 1 after it ends."""
    start, end = year_bounds(year)
    share = (now.astimezone(LOCAL) - start) / (end - start)
    return round(min(1.0, max(0.0, share)), 4)


def months_elapsed(year: int, now: datetime) -> int:
    """How many of the year's months have begun by ``now`` (0..12)."""
    local = now.astimezone(LOCAL)
    return 0 if local.year < year else 12 if local.year > year else local.month


def _month(column, *, is_date: bool = False):
    """The Beijing-time month (1..12) of a UTC timestamp column, or of a local date column."""
    if db.session.get_bind().dialect.name == "sqlite":
        text = sa.func.strftime("%m", column) if is_date else sa.func.strftime("%m", column, "+8 hours")
        return sa.cast(text, sa.Integer)
    moment = column if is_date else sa.func.timezone("Asia/Shanghai", column)
    return sa.cast(sa.extract("month", moment), sa.Integer)


# --- regions -------------------------------------------------------------------------------------

class Level:
    """How rows fall into the asked region's children: a code inside a child region counts for that
    child (the tree's parent links, never the digits); a code of the region itself (a batch the city
    funds) stays the region's own row (本级); at a district the children are the places (or providers)."""

    def __init__(self, region: str):
        self.region = region
        self.kind = regions.level_of(region)
        self.districts = sorted(regions.within(region))
        self.children = [code for code, _ in regions.children(region)]
        self.owner = {inner: child for child in self.children for inner in regions.within(child)}

    def key(self, district_column, item_column):
        if self.kind == "district":
            return item_column
        return sa.case(self.owner, value=district_column, else_=district_column) if self.owner else district_column

    def code(self, key) -> str:
        return str(key)

    def fixed_children(self) -> list[str]:
        return self.children if self.kind != "district" else []


def _blank_months() -> list[int]:
    return [0] * 12


# --- the measures: one query each ----------------------------------------------------------------

def _events(level: Level, start, end, now) -> dict:
    tally = (sa.select(Registration.event_id, sa.func.count(Registration.checked_in_at).label("checked_in"))
             .group_by(Registration.event_id).subquery())
    key = level.key(Place.district, Place.id).label("key")
    month = _month(Event.starts_at).label("month")
    query = (sa.select(key, month, sa.func.count(Event.id),
                       sa.func.count(Event.id).filter(Event.kind == EventKind.mentor_visit),
                       total(sa.func.coalesce(tally.c.checked_in, 0)))
             .join(Place, Place.id == Event.place_id).outerjoin(tally, tally.c.event_id == Event.id)
             .where(Event.state == EventState.published, Event.starts_at >= start, Event.starts_at < end,
                    Event.starts_at <= now, Place.district.in_(level.districts))
             .group_by(key, month))
    out = {name: {} for name in ("events", "mentor_visits", "attendance")}
    for child, mon, held, mentor, attended in db.session.execute(query):
        for name, value in (("events", held), ("mentor_visits", mentor), ("attendance", attended)):
            out[name].setdefault(level.code(child), _blank_months())[mon - 1] += int(value)
    return out


def _visits(level: Level, start, end) -> tuple[dict, dict, dict]:
    """Visits by child and month, by purpose, and the distinct people served (by child, month, total)."""
    day_from, day_to = start.date(), end.date()
    in_region = (Place.district.in_(level.districts), Visit.day >= day_from, Visit.day < day_to)
    key = level.key(Place.district, Place.id).label("key")
    month = _month(Visit.day, is_date=True).label("month")
    counts: dict = {}
    purposes = {p.value: 0 for p in VisitPurpose}
    query = (sa.select(key, month, Visit.purpose, sa.func.count()).join(Place, Place.id == Visit.place_id)
             .where(*in_region).group_by(key, month, Visit.purpose))
    for child, mon, purpose, count in db.session.execute(query):
        counts.setdefault(level.code(child), _blank_months())[mon - 1] += count
        purposes[purpose.value] += count
    people = sa.func.count(sa.distinct(Visit.user_id))

    def distinct(*columns):
        return (sa.select(*columns, people).select_from(Visit).join(Place, Place.id == Visit.place_id)
                .where(*in_region))

    served = {"total": db.session.scalar(distinct()) or 0,
              "by_child": {level.code(child): n for child, n in db.session.execute(distinct(key).group_by(key))},
              "by_month": _blank_months()}
    for mon, n in db.session.execute(distinct(month).group_by(month)):
        served["by_month"][mon - 1] = n
    return counts, purposes, served


def _stock(level: Level, *, rows_query, moment, district, item, start, end, now) -> dict:
    """A count of things that exist from ``moment`` on, at each month's end: child -> 12 values (0 for
    months not begun)."""
    key = level.key(district, item).label("key")
    month = sa.case((moment < start, 0), else_=_month(moment)).label("month")
    query = (rows_query.with_only_columns(key, month, sa.func.count())
             .where(district.in_(level.districts), moment < end, moment <= now).group_by(key, month))
    added: dict[str, list[int]] = {}
    for child, mon, count in db.session.execute(query):
        added.setdefault(level.code(child), [0] * 13)[mon] += count
    out = {}
    for child, by_month in added.items():
        running, series = by_month[0], []
        for mon in range(1, 13):
            running += by_month[mon]
            series.append(running)
        out[child] = series
    return out


def _stations(level: Level, start, end, now) -> dict:
    query = sa.select(Place.id).where(Place.kind == PlaceKind.loan_station, Place.is_active.is_(True))
    return _stock(level, rows_query=query, moment=Place.created_at, district=Place.district, item=Place.id,
                  start=start, end=end, now=now)


def _providers(level: Level, start, end, now) -> dict:
    query = sa.select(Provider.id).where(Provider.status == ProviderStatus.approved, Provider.listed_at.is_not(None))
    return _stock(level, rows_query=query, moment=Provider.listed_at, district=Provider.district, item=Provider.id,
                  start=start, end=end, now=now)


def _vouchers(level: Level, start, end, now) -> dict:
    """Redeemed (not reversed) by child (the batch's district; a provider at district level), month,
    category and batch; issued and settled by month and batch; each batch's budget."""
    district_in = VoucherBatch.district.in_(level.districts)
    batches = {b.id: b for b in db.session.scalars(sa.select(VoucherBatch).where(district_in))}
    rows = {bid: {"id": bid, "name": b.name, "district": b.district, "budget": 0, "issued": 0, "redeemed": 0,
                  "settled": 0} for bid, b in batches.items()}
    for b in batches.values():
        if start <= b.claim_starts_at < end and b.state != BatchState.draft:
            rows[b.id]["budget"] = b.budget if b.budget is not None else (b.total_count or 0) * b.face_value
    key = level.key(VoucherBatch.district, Redemption.provider_id).label("key")
    month = _month(Redemption.created_at).label("month")
    redeemed_q = (sa.select(key, month, Redemption.category, Voucher.batch_id, total(Redemption.amount))
                  .join(Voucher, Voucher.id == Redemption.voucher_id)
                  .join(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
                  .where(district_in, Redemption.created_at >= start, Redemption.created_at < end,
                         Redemption.created_at <= now, Redemption.reversed_at.is_(None))
                  .group_by(key, month, Redemption.category, Voucher.batch_id))
    by_child, by_month, by_category = {}, _blank_months(), {c.value: 0 for c in CATEGORY_LABELS}
    for child, mon, category, batch_id, amount in db.session.execute(redeemed_q):
        by_child.setdefault(level.code(child), _blank_months())[mon - 1] += amount
        by_month[mon - 1] += amount
        by_category[category] = by_category.get(category, 0) + amount
        rows[batch_id]["redeemed"] += amount
    issued_month = _month(LedgerEntry.created_at).label("month")
    issued_q = (sa.select(issued_month, Voucher.batch_id, total(LedgerEntry.amount))
                .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
                .join(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
                .where(district_in, LedgerEntry.kind == LedgerKind.issue, LedgerEntry.created_at >= start,
                       LedgerEntry.created_at < end, LedgerEntry.created_at <= now)
                .group_by(issued_month, Voucher.batch_id))
    issued_by_month = _blank_months()
    for mon, batch_id, amount in db.session.execute(issued_q):
        issued_by_month[mon - 1] += amount
        rows[batch_id]["issued"] += amount
    settled_q = (sa.select(month, Voucher.batch_id, total(Redemption.amount))
                 .join(Voucher, Voucher.id == Redemption.voucher_id)
                 .join(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
                 .join(SettlementStatement, SettlementStatement.id == Redemption.statement_id)
                 .where(district_in, SettlementStatement.state == StatementState.paid,
                        Redemption.created_at >= start, Redemption.created_at < end,
                        Redemption.reversed_at.is_(None))
                 .group_by(month, Voucher.batch_id))
    settled_by_month = _blank_months()
    for mon, batch_id, amount in db.session.execute(settled_q):
        settled_by_month[mon - 1] += amount
        rows[batch_id]["settled"] += amount
    by_batch = sorted((r for r in rows.values() if any(r[k] for k in ("budget", "issued", "redeemed", "settled"))),
                      key=lambda r: (-r["redeemed"], r["id"]))
    for row in by_batch:
        row["district_name"] = regions.name_of(row["district"])
    return {"by_child": by_child, "by_month": by_month, "by_category": by_category, "by_batch": by_batch,
            "issued_by_month": issued_by_month, "settled_by_month": settled_by_month,
            "budget": sum(r["budget"] for r in rows.values()), "issued": sum(issued_by_month),
            "redeemed": sum(by_month), "settled": sum(settled_by_month)}


def _loans(level: Level, start, end, now) -> dict:
    """Disbursed amount by child and month (the section's actual); the steps taken in the year by
    child and month; the subsidy paid on statements marked paid in the year."""
    key = level.key(LoanCase.region_code, LoanCase.station_id).label("key")
    in_region = LoanCase.region_code.in_(level.districts)
    month = _month(LoanCase.disbursed_on, is_date=True).label("month")
    lent = (sa.select(key, month, total(LoanCase.approved_amount)).where(
        in_region, LoanCase.disbursed_on >= start.date(), LoanCase.disbursed_on < end.date()).group_by(key, month))
    by_child: dict = {}
    for child, mon, amount in db.session.execute(lent):
        by_child.setdefault(level.code(child), _blank_months())[mon - 1] += amount
    steps = {name: _blank_months() for name in LOAN_STEP_LABELS}
    step_by_child: dict = {}
    step_month = _month(LoanEvent.at).label("month")
    query = (sa.select(key, step_month, LoanEvent.step, sa.func.count()).join(LoanCase, LoanCase.id == LoanEvent.case_id)
             .where(in_region, LoanEvent.step.in_(list(LOAN_STEPS)), LoanEvent.at >= start, LoanEvent.at < end,
                    LoanEvent.at <= now).group_by(key, step_month, LoanEvent.step))
    for child, mon, step, count in db.session.execute(query):
        steps[LOAN_STEPS[step]][mon - 1] += count
        step_by_child.setdefault(level.code(child), dict.fromkeys(LOAN_STEP_LABELS, 0))[LOAN_STEPS[step]] += count
    paid_month = _month(SubsidyStatement.paid_at).label("month")
    paid = (sa.select(key, paid_month, total(SubsidyLine.subsidy))
            .join(SubsidyStatement, SubsidyStatement.id == SubsidyLine.statement_id)
            .join(LoanCase, LoanCase.id == SubsidyLine.case_id)
            .where(in_region, SubsidyStatement.state == LoanStatementState.paid, SubsidyStatement.paid_at >= start,
                   SubsidyStatement.paid_at < end).group_by(key, paid_month))
    for child, mon, amount in db.session.execute(paid):
        steps["subsidy_paid"][mon - 1] += amount
        step_by_child.setdefault(level.code(child), dict.fromkeys(LOAN_STEP_LABELS, 0))["subsidy_paid"] += amount
    return {"by_child": by_child, "steps": steps, "step_by_child": step_by_child}


# --- targets, names, sections --------------------------------------------------------------------

def _targets(year: int, codes: list[str]) -> dict[tuple[str, Measure], ProgrammeTarget]:
    found = db.session.scalars(sa.select(ProgrammeTarget).where(ProgrammeTarget.year == year,
                                                                ProgrammeTarget.region_code.in_(codes)))
    return {(t.region_code, t.measure): t for t in found}


def _item_names(level: Level, keys: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """At district level the children are places (or providers for vouchers and providers): their names."""
    if level.kind != "district":
        return {}
    place_ids = [int(k) for k in keys.get("place", ())]
    provider_ids = [int(k) for k in keys.get("provider", ())]
    places = dict(db.session.execute(sa.select(Place.id, Place.name).where(Place.id.in_(place_ids or [-1]))).all())
    providers = dict(db.session.execute(sa.select(Provider.id, Provider.name)
                                        .where(Provider.id.in_(provider_ids or [-1]))).all())
    return {"place": {str(k): v for k, v in places.items()}, "provider": {str(k): v for k, v in providers.items()}}


def _status(actual: int, target: int | None, expected: int | None) -> Status | None:
    if target is None:
        return None
    if actual >= target:
        return Status.done
    return Status.ahead if actual >= (expected or 0) else Status.behind


def _section(*, key, title, unit, measure, by_child: dict, level: Level, names: dict, targets: dict,
             share: float, months: int, stock: bool, people: dict | None = None) -> dict:
    by_month = _blank_months()
    for series in by_child.values():
        by_month = [a + b for a, b in zip(by_month, series)]
    if stock:  # a count at each month's end: months not begun have none yet
        by_month = [value if index < months else None for index, value in enumerate(by_month)]
        actual = by_month[months - 1] if months else 0
    else:
        actual = sum(by_month)
    target_row = targets.get((level.region, measure))
    target = target_row.value if target_row else None
    expected = round(target * share) if target is not None else None
    status = _status(actual, target, expected)
    codes = level.fixed_children() + sorted((c for c in by_child if c not in level.fixed_children()),
                                            key=lambda c: (-_sum(by_child[c], stock, months), c))
    by_region = []
    for code in codes:
        series = by_child.get(code, _blank_months())
        child_target = targets.get((code, measure))
        own = code == level.region  # money the region itself holds (a city-funded batch)
        name = names.get(code) or regions.name_of(code) or code
        row = {"code": code, "name": f"{name}（本级）" if own else name,
               "actual": _sum(series, stock, months), "target": child_target.value if child_target else None,
               "drill": level.kind != "district" and not own}
        if people is not None:
            row["people_served"] = people["by_child"].get(code, 0)
        by_region.append(row)
    return {"key": key, "title": title, "unit": unit, "money": measure in MONEY, "measure": measure.value,
            "measure_label": MEASURE_LABELS[measure], "target": target,
            "plan": target_row.plan if target_row else None, "actual": actual, "expected_by_now": expected,
            "ratio": round(actual / target, 4) if target else None,
            "status": status.value if status else None, "status_label": status.label if status else None,
            "stock": stock, "by_month": by_month, "by_region": by_region}


def _sum(series: list[int], stock: bool, months: int) -> int:
    return (series[months - 1] if months else 0) if stock else sum(series)


def dashboard(*, year: int, region: str, now: datetime) -> dict:
    """The whole report for ``year`` and ``region`` (already checked as the caller's to see)."""
    level = Level(region)
    start, end = year_bounds(year)
    share, months = share_elapsed(year, now), months_elapsed(year, now)
    events = _events(level, start, end, now)
    visits, purposes, served = _visits(level, start, end)
    vouchers = _vouchers(level, start, end, now)
    loans = _loans(level, start, end, now)
    by_child = {**events, "loans": loans["by_child"], "station_visits": visits, "stations_in_service": _stations(level, start, end, now),
                "vouchers": vouchers["by_child"], "providers_listed": _providers(level, start, end, now)}
    kinds = {"vouchers": "provider", "providers_listed": "provider"}
    wanted: dict[str, set[str]] = {}
    for key, children in by_child.items():
        wanted.setdefault(kinds.get(key, "place"), set()).update(children)
    item_names = _item_names(level, wanted)
    codes = [region, *level.fixed_children()]
    targets = _targets(year, codes)
    sections = []
    for key, title, unit, measure in SECTIONS:
        names = item_names.get(kinds.get(key, "place"), {})
        section = _section(key=key, title=title, unit=unit, measure=measure, by_child=by_child[key], level=level,
                           names=names, targets=targets, share=share, months=months, stock=key in STOCKS,
                           people=served if key == "station_visits" else None)
        if key == "station_visits":
            served_target = targets.get((region, Measure.people_served))
            section["by_purpose"] = [{"value": p.value, "label": PURPOSE_LABELS[p], "count": purposes[p.value]}
                                     for p in VisitPurpose]
            section["people_served"] = served["total"]
            section["people_served_by_month"] = served["by_month"]
            section["people_served_target"] = served_target.value if served_target else None
        if key == "vouchers":
            section.update({k: vouchers[k] for k in ("budget", "issued", "redeemed", "settled", "by_batch",
                                                     "issued_by_month", "settled_by_month")})
            section["by_category"] = [{"value": c.value, "label": label, "amount": vouchers["by_category"][c.value]}
                                      for c, label in CATEGORY_LABELS.items()]
        if key == "loans":
            section["steps"] = [{"key": name, "label": label, "money": name == "subsidy_paid",
                                 "total": sum(loans["steps"][name]), "by_month": loans["steps"][name]}
                                for name, label in LOAN_STEP_LABELS.items()]
            for row in section["by_region"]:
                row["steps"] = loans["step_by_child"].get(row["code"], dict.fromkeys(LOAN_STEP_LABELS, 0))
        sections.append(section)
    other = [{"measure": t.measure.value, "label": MEASURE_LABELS[t.measure], "target": t.value, "unit": t.unit,
              "money": t.measure in MONEY, "plan": t.plan, "note": t.note}
             for (code, measure), t in sorted(targets.items(), key=lambda item: list(Measure).index(item[0][1]))
             if code == region and measure not in COUNTED]
    return {"year": year, "region": region, "region_name": regions.name_of(region), "level": level.kind,
            "parent": regions.parent_of(region), "share_elapsed": share, "months_elapsed": months,
            "as_of": now.astimezone(LOCAL).isoformat(timespec="minutes"), "sections": sections,
            "other_targets": other}
