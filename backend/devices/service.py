"""Device keys and credentials for personal codes; scanner provisioning, offline bundles and
the revocation feed."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from backend.accounts import service as accounts
from backend.accounts.models import User
from backend.core import audit, codes, signing
from backend.core.codes import CodeError, CodeType
from backend.core.db import utcnow
from backend.core.errors import Conflict, DomainError, Forbidden, NotFound
from backend.core.keys import keyring
from backend.devices.models import PersonalDevice, Revocation, RevocationKind, ScannerDevice, ScannerSetup
from backend.extensions import db
from backend.places import service as places

MAX_DEVICES = 10
SETUP_MINUTES = 10
SEEN_EVERY = timedelta(minutes=5)  # last-seen stamps are coarse: no write on every scan


def _touch(row) -> None:
    now = utcnow()
    if row.last_seen_at is None or now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now


def _digest(value: bytes | str) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


# --- personal devices --------------------------------------------------------------------------

def register_personal(*, user: User, public_key: bytes, name: str) -> tuple[PersonalDevice, str]:
    try:
        point = codes.compress_p256(codes.load_p256(public_key))
    except CodeError:
        raise DomainError("设备公钥无效", code="invalid_public_key", status=422) from None
    active = db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDevice).where(
        PersonalDevice.user_id == user.id, PersonalDevice.revoked_at.is_(None)))
    if active >= MAX_DEVICES:
        raise DomainError(f"最多绑定 {MAX_DEVICES} 台设备，请先在“我的设备”中移除不用的设备",
                          code="too_many_devices", status=409)
    device = PersonalDevice(user_id=user.id, name=name, public_key=point, credential_expires_at=utcnow())
    db.session.add(device)
    db.session.flush()
    return device, issue_credential(device=device)


def issue_credential(*, device: PersonalDevice) -> str:
    now = int(time.time())
    days = current_app.config["CREDENTIAL_DAYS"]
    not_after = now + days * 86400
    text = signing.sign_text(CodeType.credential, {"user_id": device.user_id, "device_id": device.id,
                                                   "device_key": device.public_key},
                             not_before=now - 300, not_after=not_after)
    device.credential_expires_at = utcnow() + timedelta(days=days)
    device.last_seen_at = utcnow()
    db.session.flush()
    return text


def get_personal(*, user: User, id: int) -> PersonalDevice:
    device = db.session.get(PersonalDevice, id)
    if device is None or device.user_id != user.id:
        raise NotFound("设备不存在", code="device_not_found")
    return device


def renew_credential(*, user: User, id: int) -> tuple[PersonalDevice, str]:
    device = get_personal(user=user, id=id)
    if device.revoked_at is not None:
        raise DomainError("该设备已移除，请重新登录绑定", code="device_revoked", status=409)
    return device, issue_credential(device=device)


def list_personal(*, user: User) -> list[PersonalDevice]:
    return db.session.scalars(sa.select(PersonalDevice).where(
        PersonalDevice.user_id == user.id, PersonalDevice.revoked_at.is_(None)).order_by(PersonalDevice.id)).all()


def revoke_personal(*, user: User, id: int) -> None:
    device = get_personal(user=user, id=id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        db.session.add(Revocation(kind=RevocationKind.credential, ref_id=device.id))
        db.session.flush()


@accounts.on_active_changed  # a blocked account's codes are refused by scanners after their next refresh
def block_user(*, user: User, blocked: bool) -> None:
    db.session.add(Revocation(kind=RevocationKind.user_blocked if blocked else RevocationKind.user_restored,
                              ref_id=user.id))
    db.session.flush()


def revoke_ticket(*, registration_id: int) -> None:
    db.session.add(Revocation(kind=RevocationKind.ticket, ref_id=registration_id))
    db.session.flush()


# --- verifying codes on the server -------------------------------------------------------------

def verify_code(*, text: str, expect: str) -> dict:
    """Verify a scanned code against the live database (the online path)."""
    if expect == "personal":
        personal = signing.verify(text, expect="personal")
        row = db.session.execute(sa.select(PersonalDevice, User).join(User, User.id == PersonalDevice.user_id)
                                 .where(PersonalDevice.id == personal.device_id)).first()
        device, user = row if row else (None, None)
        if device is None or device.revoked_at is not None or device.user_id != personal.user_id \
                or not user.is_active:
            raise DomainError(codes.MESSAGES["revoked"], code="revoked", status=422)
        _touch(device)
        return {"type": "personal", "user": user, "purpose": personal.purpose.name, "ts": personal.ts,
                "device_id": device.id}
    revoked = {"ticket": _revoked_ids(RevocationKind.ticket)} if expect == "ticket" else None
    parsed = signing.verify(text, expect=expect, revoked=revoked)
    return {"type": parsed.type.name, "fields": {k: v for k, v in parsed.fields.items() if not isinstance(v, bytes)}}


def _revoked_ids(kind: RevocationKind) -> set[int]:
    return set(db.session.scalars(sa.select(Revocation.ref_id).where(Revocation.kind == kind)))


# --- scanners ----------------------------------------------------------------------------------

def can_manage_place(user: User, place_id: int) -> bool:
    """The place's organisers, and administrators whose region holds the place."""
    if any(g.role.value == "organiser" and g.place_id == place_id for g in user.grants):
        return True
    if not user.has_role("admin"):
        return False
    regional = places.ids_in_scope(user)
    return regional is None or place_id in regional


def _ensure_manager(user: User, place_id: int) -> None:
    if not can_manage_place(user, place_id):
        raise Forbidden("只有管理员或该场所的组织者可以管理扫码设备", code="forbidden")


def create_setup(*, actor: User, place, demo: bool = False) -> tuple[ScannerSetup, str]:
    """A one-time setup code for ``place``; ``demo``: the demo station staff's own (demo_setup)."""
    if not demo:
        _ensure_manager(actor, place.id)
    nonce = secrets.token_bytes(16)
    now = int(time.time())
    setup = ScannerSetup(place_id=place.id, nonce_hash=_digest(nonce), created_by_id=actor.id,
                         expires_at=utcnow() + timedelta(minutes=SETUP_MINUTES))
    db.session.add(setup)
    db.session.flush()
    text = signing.sign_text(CodeType.setup, {"setup_id": setup.id, "nonce": nonce},
                             not_before=now - 60, not_after=now + SETUP_MINUTES * 60)
    audit.record(actor=actor, action="scanner.setup", target_type="place", target_id=place.id,
                 after={"setup_id": setup.id})
    return setup, text


def demo_setup(*, actor: User) -> tuple[ScannerSetup, str]:
    """Development only: a setup code for the place of the signed-in demo station staff, so the demo
    phone makes itself that place's scanner right after the demo login (no administrator needed)."""
    from backend.places import service as places

    if not current_app.config["DEMO_LOGIN"]:
        raise NotFound("演示登录未开启", code="demo_disabled")
    grant = next((g for g in actor.grants if g.role.value == "station_staff" and g.place_id), None)
    if grant is None:
        raise NotFound("您还没有绑定场所", code="place_not_found")
    return create_setup(actor=actor, place=places.get_or_raise(id=grant.place_id), demo=True)


def provision(*, setup_code: str, name: str) -> tuple[ScannerDevice, str]:
    parsed = signing.verify(setup_code, expect="setup")
    setup = db.session.get(ScannerSetup, parsed.fields["setup_id"])
    if setup is None or not hmac.compare_digest(setup.nonce_hash, _digest(parsed.fields["nonce"])):
        raise DomainError("设置码无效", code="setup_invalid", status=422)
    token = secrets.token_urlsafe(32)
    device = ScannerDevice(place_id=setup.place_id, name=name, token_hash=_digest(token),
                           created_by_id=setup.created_by_id, last_seen_at=utcnow())
    db.session.add(device)
    db.session.flush()
    claimed = db.session.execute(sa.update(ScannerSetup).where(
        ScannerSetup.id == setup.id, ScannerSetup.used_at.is_(None)).values(used_at=utcnow(), device_id=device.id))
    if claimed.rowcount != 1:
        raise Conflict("设置码已使用过，请让管理员重新生成", code="setup_used")
    return with_place_names([device])[0], token


def authenticate_scanner(token: str | None, *, allow_revoked: bool = False) -> ScannerDevice:
    """The scanner behind a device token. ``allow_revoked``: a revoked device may still hand in what
    it scanned before it learned of its revocation (the upload decides what those scans are worth)."""
    if not token:
        raise DomainError("缺少扫码设备凭证", code="device_unauthorized", status=401)
    device = db.session.scalar(sa.select(ScannerDevice).where(ScannerDevice.token_hash == _digest(token)))
    if device is None:
        raise DomainError("扫码设备未登记", code="device_unauthorized", status=401)
    if device.revoked_at is not None and not allow_revoked:
        raise DomainError("该扫码设备已停用，请联系管理员重新开通", code="device_revoked", status=401)
    _touch(device)
    return device


def with_place_names(devices: list[ScannerDevice]) -> list[ScannerDevice]:
    """``place_name`` on each scanner (people see the place's name, never its id)."""
    from backend.places.models import Place

    ids = {device.place_id for device in devices}
    names = dict(db.session.execute(sa.select(Place.id, Place.name).where(Place.id.in_(ids))).all()) if ids else {}
    for device in devices:
        device.place_name = names.get(device.place_id, "")
    return devices


def list_scanners(*, actor: User, place) -> list[ScannerDevice]:
    _ensure_manager(actor, place.id)
    return with_place_names(db.session.scalars(sa.select(ScannerDevice).where(ScannerDevice.place_id == place.id)
                                               .order_by(ScannerDevice.id)).all())


def _managed_scanner(*, actor: User, id: int) -> ScannerDevice:
    device = db.session.get(ScannerDevice, id)
    if device is None:
        raise NotFound("扫码设备不存在", code="device_not_found")
    _ensure_manager(actor, device.place_id)
    return device


def rename_scanner(*, actor: User, id: int, name: str) -> ScannerDevice:
    device = _managed_scanner(actor=actor, id=id)
    name = name.strip()
    if not name:
        raise DomainError("请填写设备名称（1 到 64 个字）", code="validation_error", status=422,
                          details={"json": {"name": ["请填写设备名称（1 到 64 个字）"]}})
    before = {"name": device.name}
    device.name = name
    db.session.flush()
    audit.record_changes(actor=actor, action="scanner.rename", target_type="scanner_device", target_id=device.id,
                         before=before, after={"name": name})
    return with_place_names([device])[0]


def revoke_scanner(*, actor: User, id: int) -> ScannerDevice:
    device = _managed_scanner(actor=actor, id=id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        audit.record(actor=actor, action="scanner.revoke", target_type="scanner_device", target_id=device.id,
                     after={"name": device.name})
    db.session.flush()
    return with_place_names([device])[0]


def bundle(*, device: ScannerDevice, since: int | None) -> dict:
    """What an offline scanner needs: public keys, revocations (all, or those after ``since``), its place."""
    from backend.places import service as places

    query = sa.select(Revocation).order_by(Revocation.id)
    if since is not None:
        query = query.where(Revocation.id > since)
    entries = db.session.scalars(query).all()
    cursor = entries[-1].id if entries else (since or 0)
    revoked_credentials, revoked_tickets, blocked = [], [], {}
    for entry in entries:
        if entry.kind == RevocationKind.credential:
            revoked_credentials.append(entry.ref_id)
        elif entry.kind == RevocationKind.ticket:
            revoked_tickets.append(entry.ref_id)
        else:
            blocked[entry.ref_id] = entry.kind == RevocationKind.user_blocked
    cfg = current_app.config
    return {
        "full": since is None,
        "cursor": cursor,
        "keys": keyring().public_listing(),
        "revoked_credentials": revoked_credentials,
        "revoked_tickets": revoked_tickets,
        "blocked_users": sorted(u for u, b in blocked.items() if b),
        "restored_users": sorted(u for u, b in blocked.items() if not b),
        "place": places.get_or_raise(id=device.place_id, include_inactive=True),
        "device": device,
        "personal_code_window": cfg["PERSONAL_CODE_WINDOW"],
        "personal_code_skew": cfg["PERSONAL_CODE_SKEW"],
    }
