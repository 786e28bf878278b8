"""Factories: build real rows through the services, so tests exercise the same code paths."""
from __future__ import annotations

import itertools

from backend.accounts import service as accounts
from backend.accounts.enums import Role
from backend.places import service as places
from backend.places.enums import PlaceKind

_phones = itertools.count(13800000000)


def next_phone() -> str:
    return str(next(_phones) + 1)


def make_user(role: Role | str = Role.entrepreneur, *, phone: str | None = None, name: str = "测试用户",
              place=None, bank=None):
    """A person with one role; a bank officer's grant is bound to ``bank`` (a new test bank if none is
    given), as a real one always is."""
    user = accounts.create_user(phone=phone or next_phone(), name=name, roles=())
    if Role(role) == Role.bank_staff and bank is None:
        bank = make_bank()
    accounts.grant_role(actor=None, user=user, role=Role(role), place_id=place.id if place else None,
                        bank_id=bank.id if bank is not None else None)
    return user


def make_place(**overrides):
    data = dict(kind=PlaceKind.loan_station, name="创贷之家·测试驿站", district="370811", address="任城区测试路 1 号",
                lat=35.41, lng=116.58, opening_hours="9:00-17:00", services=["贷款咨询"], operator="测试运营方")
    data.update(overrides)
    data["kind"] = PlaceKind(data["kind"])
    return places.create(actor=None, data=data)


def valid_id_number(first17: str = "37081119900307123") -> str:
    from backend.core.validators import id_number_check_char

    return first17 + id_number_check_char(first17)


def valid_credit_code(first17: str = "91370800MA3C4D5E6") -> str:
    from backend.core.validators import credit_code_check_char

    return first17 + credit_code_check_char(first17)


def p256_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def p256_public_b64(key=None) -> str:
    import base64

    from backend.core import codes

    key = key or p256_key()
    return base64.urlsafe_b64encode(codes.compress_p256(key.public_key())).rstrip(b"=").decode()


def make_device(user, key=None):
    """A registered personal device; returns the device (its credential text is on .credential)."""
    from backend.core import codes
    from backend.devices import service as devices

    key = key or p256_key()
    device, credential = devices.register_personal(user=user, public_key=codes.compress_p256(key.public_key()),
                                                   name="测试手机")
    device.credential, device.key = credential, key
    return device


def make_scanner(place, name="测试扫码枪"):
    """A provisioned scanner device for a place: (device, token)."""
    from backend.accounts.enums import Role
    from backend.devices import service as devices

    admin = make_user(Role.admin)
    _, setup_code = devices.create_setup(actor=admin, place=place)
    return devices.provision(setup_code=setup_code, name=name)


# --- vouchers ------------------------------------------------------------------------------------

_codes = itertools.count(1)


def unique_credit_code() -> str:
    """A valid 统一社会信用代码 not used before in this run."""
    return valid_credit_code(f"91370811MA{next(_codes):07d}")


def unique_id_number(n: int | None = None) -> str:
    """A valid ID number, distinct for each n (birth date and sequence vary)."""
    from datetime import date, timedelta

    n = next(_codes) if n is None else n
    born = date(1970, 1, 1) + timedelta(days=n // 1000 % 15000)
    return valid_id_number(f"370811{born:%Y%m%d}{n % 1000:03d}")


def complete_profile(user, *, subject_type="startup", credit_code=None, id_number=None, district="370811",
                     founded_on=None):
    from datetime import date

    from backend.accounts import service as accounts
    from backend.accounts.enums import SubjectType

    n = next(_codes)
    accounts.update_me(user=user, data={"profile": {
        "subject_type": SubjectType(subject_type), "org_name": f"测试企业{n}",
        "credit_code": credit_code if credit_code is not None else (
            None if subject_type == "individual" else unique_credit_code()),
        "founded_on": founded_on or date(2025, 1, 1), "district": district,
        "id_number": id_number or unique_id_number(n)}})
    return user


def make_entrepreneur(**profile):
    return complete_profile(make_user(Role.entrepreneur), **profile)


def make_provider(*, staff=None, listed=True, categories=("rent", "training", "legal"), credit_code=None, **overrides):
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.extensions import db
    from backend.vouchers.enums import ProviderStatus
    from backend.vouchers.models import Provider, ProviderMember

    now = utcnow()
    data = dict(name=f"测试服务机构{next(_codes)}", credit_code=credit_code or unique_credit_code(),
                categories=list(categories), district="370811", address="任城区测试路 2 号", contact_name="联系人",
                contact_phone="13900000000", status=ProviderStatus.approved, approved_at=now - timedelta(days=10),
                listed_at=now - timedelta(days=3) if listed else now + timedelta(days=4))
    data.update(overrides)
    provider = Provider(**data)
    db.session.add(provider)
    db.session.flush()
    if staff is not None:
        db.session.add(ProviderMember(provider_id=provider.id, user_id=staff.id))
        db.session.flush()
    return provider


def make_staff(provider=None, **provider_overrides):
    """A provider staff member and their (listed) provider."""
    staff = make_user(Role.provider_staff)
    if provider is None:
        provider = make_provider(staff=staff, **provider_overrides)
    else:
        from backend.extensions import db
        from backend.vouchers.models import ProviderMember

        db.session.add(ProviderMember(provider_id=provider.id, user_id=staff.id))
        db.session.flush()
    return staff, provider


def make_batch(**overrides):
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.vouchers import batches
    from backend.vouchers.enums import BatchMode, BatchState

    now = utcnow()
    data = dict(name=f"测试创业券{next(_codes)}", district="370811", face_value=100_000, total_count=100, budget=None,
                per_person_limit=1, daily_cap=None, claim_starts_at=now - timedelta(days=1),
                claim_ends_at=now + timedelta(days=30), valid_until=None, valid_days=90,
                categories=["rent", "training", "legal"], co_pay_ratio_bp=5000, min_bill=0,
                eligibility={"subject_types": [], "max_firm_age_years": None, "districts": []}, mode=BatchMode.claim,
                description="")
    state = overrides.pop("state", BatchState.active)
    data.update(overrides)
    batch = batches.create(actor=None, data=data)
    if state != BatchState.draft:
        batch.state = state
    return batch


def make_voucher(holder=None, batch=None, **batch_overrides):
    from backend.vouchers import claims

    holder = holder or make_entrepreneur()
    batch = batch or make_batch(**batch_overrides)
    voucher, _ = claims.claim(user=holder, batch_id=batch.id)
    return voucher


def fresh_ts(phone) -> int:
    """The second a new code of ``phone`` is made at: a pay code is single-use, keyed by (device,
    second), so codes asked for faster than one a second take the latest second not yet used (still
    well inside the code's window for the few a test makes)."""
    import time

    if getattr(phone, "used_ts", None) is None:
        phone.used_ts = set()
    used = phone.used_ts
    ts = int(time.time())
    while ts in used:
        ts -= 1
    used.add(ts)
    return ts


def pay_code(device, ts=None, purpose=None):
    """A fresh pay code (personal code, purpose pay) from a device made by make_device."""
    from backend.core import codes

    return codes.to_text(codes.encode_personal(codes.from_text(device.credential), device_key=device.key,
                                               purpose=purpose or codes.Purpose.pay,
                                               ts=fresh_ts(device) if ts is None else ts))


def make_space(**overrides):
    return make_place(**{"kind": PlaceKind.space, "name": "喵小创·测试空间", "services": ["创业沙龙"], **overrides})


def make_event(*, place=None, organiser=None, state="published", **overrides):
    """An event at a space (made by that space's organiser), published and open for sign-up by default."""
    from datetime import timedelta

    from backend.core.db import utcnow
    from backend.events import service as events
    from backend.events.enums import EventKind, EventState

    place = place or make_space()
    organiser = organiser or make_user(Role.organiser, place=place)
    now = utcnow()
    data = dict(place_id=place.id, title=f"创业沙龙第{next(_codes)}期", kind=EventKind.salon, description="测试活动",
                cover_id=None, starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                signup_opens_at=now - timedelta(hours=1), signup_closes_at=now + timedelta(days=3),
                capacity=10, waitlist=True, approval_required=False, audience={"subject_types": [], "districts": []})
    data.update(overrides)
    if "signup_closes_at" not in overrides:
        data["signup_closes_at"] = min(data["starts_at"], data["ends_at"])
    event = events.create(actor=organiser, data=data)
    if state != "draft":
        event.state, event.published_at = EventState(state), now
    return event


# --- loans ---------------------------------------------------------------------------------------

def make_bank(*, parent=None, region_code="370811", name=None):
    """A partner bank (or, with ``parent``, one of its branches)."""
    from backend.extensions import db
    from backend.loans.models import Bank

    bank = Bank(name=name or f"测试银行{next(_codes)}", parent_id=parent.id if parent else None, region_code=region_code)
    db.session.add(bank)
    db.session.flush()
    return bank


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (236, 242, 250)).save(buffer, "PNG")
    return buffer.getvalue()


def loan_application(**overrides) -> dict:
    """An application as the schema loads it (enum members, not their values)."""
    from backend.loans.enums import BorrowerType, IdentityCategory

    return dict(dict(borrower_type=BorrowerType.individual, amount=20_0000_00, term_months=24,
                     purpose="开设社区烘焙店，购置设备", business="烘焙零售", identity_category=IdentityCategory.graduate,
                     age=27), **overrides)


# the steps that take a case to each state (after it is opened, its documents given and pre-checked)
_LOAN_STEPS = {"consultation": 0, "precheck": 1, "review": 2, "notice": 3, "referred": 4, "diligence": 5,
               "disbursed": 6, "overdue": 7}


def make_loan_case(state="consultation", *, applicant=None, station=None, bank=None, station_staff=None, admin=None,
                   bank_staff=None, disbursed_days_ago=200):
    """A 创业担保贷款 case walked to ``state`` through the real steps (loans.service): opened online by
    ``applicant`` at ``station``, the documents the Shandong rule asks for uploaded, pre-checked and
    submitted by the station's 专员, approved and (the notice period dated back as over) referred to
    ``bank`` by an administrator, taken, disbursed and marked overdue by the bank's officer. The
    province's rules and banks are seeded first (loans.seed, idempotent)."""
    from datetime import timedelta

    from backend.loans import flow, seed, service

    seed.seed()
    applicant = applicant or make_entrepreneur()
    station = station or make_place()
    steps = _LOAN_STEPS[state]
    case = service.open_online(user=applicant, data=loan_application(station_id=station.id))
    if steps == 0:
        return case
    for kind in ("id_card", "identity_proof", "credit_auth"):
        service.add_document(user=applicant, id=case.id, kind=kind, data=png_bytes(), filename=f"{kind}.png")
    station_staff = station_staff or make_user(Role.station_staff, place=station)
    service.precheck(user=station_staff, id=case.id)
    if steps >= 2:
        service.submit(user=station_staff, id=case.id)
    admin = admin or make_user(Role.admin)
    if steps >= 3:
        service.approve(user=admin, id=case.id, remark="")
    if steps >= 4:
        case.notice_until = flow.today() - timedelta(days=1)  # the notice period is over
        bank = bank or make_bank()
        service.refer(user=admin, id=case.id, bank_id=bank.id, remark="")
    if steps >= 5:
        bank_staff = bank_staff or make_user(Role.bank_staff, bank=case.bank)
        service.diligence(user=bank_staff, id=case.id, remark="经营场所已实地查看", guarantee="免除反担保")
    if steps >= 6:
        service.disburse(user=bank_staff, id=case.id, data=dict(
            approved_amount=case.amount, rate_bp=345, lpr_bp=300, term_months=24,
            disbursed_on=flow.today() - timedelta(days=disbursed_days_ago)))
    if steps >= 7:
        service.mark_overdue(user=bank_staff, id=case.id, since=flow.today() - timedelta(days=10), remark="")
    return case
