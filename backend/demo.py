"""Jining demo data for development and the browser tests; idempotent."""
from __future__ import annotations

import sqlalchemy as sa

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.extensions import db
from backend.places.enums import PlaceKind
from backend.places.models import Place

PLACES = [
    dict(kind=PlaceKind.space, name="喵小创·任城创业陪跑空间", district="370811", address="济宁市任城区太白楼中路 36 号",
         lat=35.4146, lng=116.5872, opening_hours="周一至周五 9:00-17:30", operator="任城区人社局",
         services=["政策咨询", "创业指导", "活动场地", "导师对接", "项目路演"], phone="0537-2345678"),
    dict(kind=PlaceKind.street, name="济宁高新区创业街区", district="370811", address="济宁市任城区崇文大道 5 号",
         lat=35.3890, lng=116.6200, opening_hours="每天 9:00-21:00", operator="济宁高新区管委会",
         services=["政策咨询", "创业培训", "工商注册帮办"], phone="0537-2345600"),
    dict(kind=PlaceKind.loan_station, name="创贷之家·古槐路驿站", district="370811", address="济宁市任城区古槐路 88 号",
         lat=35.4100, lng=116.5800, opening_hours="周一至周五 8:30-17:00", operator="济宁银行古槐支行",
         services=["贷款咨询", "政策咨询"], phone="0537-2211001"),
    dict(kind=PlaceKind.loan_station, name="创贷之家·曲阜鼓楼驿站", district="370881", address="济宁市曲阜市鼓楼北街 12 号",
         lat=35.5960, lng=116.9910, opening_hours="周一至周五 8:30-17:00", operator="曲阜农商银行",
         services=["贷款咨询", "创业指导"], phone="0537-4412002"),
    dict(kind=PlaceKind.loan_station, name="创贷之家·邹城平阳驿站", district="370883", address="济宁市邹城市平阳路 203 号",
         lat=35.4050, lng=116.9740, opening_hours="周一至周六 9:00-17:00", operator="邹城市就业服务中心",
         services=["贷款咨询", "政策咨询", "创业培训"], phone="0537-5213003"),
]

TWO_ROLES = ("19900000007", "陈多岗")


def seed(*, history: bool = True) -> None:
    """The demo world; ``history`` adds what has happened in it (visits, settled months)."""
    from backend.programme import seed as targets

    targets.seed()  # reference data (also `flask programme seed-targets`)
    from backend.loans import seed as loans

    loans.seed()  # the rules and partner banks (also `flask loans seed`)
    places, places_by_name = {}, {}
    for data in PLACES:
        place = db.session.scalar(sa.select(Place).where(Place.name == data["name"]))
        if place is None:
            place = Place(**data)
            db.session.add(place)
            db.session.flush()
        places[data["kind"]] = places.get(data["kind"]) or place
        places_by_name[place.name] = place
    for role, phone, name, region, _ in accounts.DEMO_ACCOUNTS.values():
        user = accounts.find_by_phone(phone=phone) or accounts.create_user(phone=phone, name=name, roles=())
        place_id = {Role.station_staff: places[PlaceKind.loan_station].id,
                    Role.organiser: places[PlaceKind.space].id}.get(role)
        bank_id = loans.demo_bank().id if role == Role.bank_staff else None
        accounts.grant_role(actor=None, user=user, role=role, place_id=place_id, region_code=region, bank_id=bank_id)
    # one person with two roles: staff at the 曲阜 station and organiser at the 任城 space
    both = accounts.find_by_phone(phone=TWO_ROLES[0]) or accounts.create_user(phone=TWO_ROLES[0], name=TWO_ROLES[1],
                                                                              roles=())
    qufu = next(p for p in places_by_name.values() if p.district == "370881")
    accounts.grant_role(actor=None, user=both, role=Role.station_staff, place_id=qufu.id)
    accounts.grant_role(actor=None, user=both, role=Role.organiser, place_id=places[PlaceKind.space].id)
    db.session.flush()

    from backend.vouchers import demo as vouchers_demo

    vouchers_demo.seed(history=history)

    from backend.events import demo as events_demo

    events_demo.seed()

    from backend.checkins import demo as checkins_demo

    checkins_demo.seed(history=history)

    from backend.loans import demo as loans_demo

    loans_demo.seed(history=history)


def logins() -> list[tuple[str, str, str]]:
    return [(f"{key} {label}", phone, name) for key, (_, phone, name, _, label) in accounts.DEMO_ACCOUNTS.items()]
