"""Accounts: users and roles, phone-code and WeChat login, tokens, profiles."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from backend.accounts import scope, sms, wechat
from backend.accounts.enums import Role, WechatApp
from backend.accounts.models import EntrepreneurProfile, RevokedToken, RoleGrant, SmsCode, User, WechatIdentity
from backend.core import audit, regions
from backend.core.db import utcnow
from backend.core.errors import DomainError, NotFound
from backend.core.pii import blind_index
from backend.extensions import db

from backend.accounts.enums import DEMO_ACCOUNTS, DEMO_PHONES  # noqa: E402,F401


# --- users and roles -------------------------------------------------------------------------

def get_or_raise(*, id: int) -> User:
    user = db.session.get(User, id)
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    return user


def find_by_phone(*, phone: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.phone_hash == blind_index(phone)))


def create_user(*, phone: str | None, name: str = "", roles=(Role.entrepreneur,)) -> User:
    user = User(phone=phone, phone_hash=blind_index(phone) if phone else None, name=name)
    user.grants = [RoleGrant(role=Role(role)) for role in roles]
    db.session.add(user)
    db.session.flush()
    return user


# How a role's place or provider is found (the places and vouchers domains register their lookups,
# which raise place_not_found / provider_not_found); accounts imports no domain above it.
_lookups: dict[str, Callable[[int], object]] = {}


def finds_places(fn: Callable[[int], object]) -> Callable[[int], object]:
    """Register ``fn(place_id)``, which raises when there is no such (open) place."""
    _lookups["place_id"] = fn
    return fn


def finds_providers(fn: Callable[[int], object]) -> Callable[[int], object]:
    """Register ``fn(provider_id)``, which raises when there is no such provider."""
    _lookups["provider_id"] = fn
    return fn


def finds_banks(fn: Callable[[int], object]) -> Callable[[int], object]:
    """Register ``fn(bank_id)``, which raises when there is no such partner bank."""
    _lookups["bank_id"] = fn
    return fn


# What the domains above accounts do when a grant is made or revoked (vouchers: a provider's staff
# member joins or leaves the provider). Called in the same transaction, before the audit entry.
_grant_changed: list[Callable[..., None]] = []


def on_grant_changed(fn: Callable[..., None]) -> Callable[..., None]:
    """Register ``fn(*, user, grant, granted)``."""
    if fn not in _grant_changed:
        _grant_changed.append(fn)
    return fn


def _binding(grant: RoleGrant) -> dict:
    return {"place_id": grant.place_id, "provider_id": grant.provider_id, "region_code": grant.region_code,
            "bank_id": grant.bank_id}


def grant_role(*, actor: User | None, user: User, role: Role, place_id: int | None = None,
               provider_id: int | None = None, region_code: str | None = None, bank_id: int | None = None) -> RoleGrant:
    if role == Role.admin and region_code is None:
        region_code = regions.PROVINCE  # an administrator without a region is a province administrator
    wanted = {"place_id": place_id, "provider_id": provider_id, "region_code": region_code, "bank_id": bank_id}
    for field in ("place_id", "provider_id", "bank_id"):
        if wanted[field] is not None and field in _lookups:
            _lookups[field](wanted[field])
    for grant in user.grants:
        if grant.role == role and _binding(grant) == wanted:
            return grant
    grant = RoleGrant(role=role, **wanted)
    user.grants.append(grant)
    db.session.flush()
    for subscriber in _grant_changed:
        subscriber(user=user, grant=grant, granted=True)
    audit.record(actor=actor, action="role.grant", target_type="user", target_id=user.id,
                 after={"role": role.value, **{k: v for k, v in wanted.items() if v is not None or k == "place_id"}})
    return grant


def revoke_role(*, actor: User, user: User, role: Role, place_id: int | None = None,
                provider_id: int | None = None, region_code: str | None = None, bank_id: int | None = None) -> None:
    """Revoke ``role``: every grant of it, or only the one bound to what is given."""
    given = {k: v for k, v in {"place_id": place_id, "provider_id": provider_id, "region_code": region_code,
                               "bank_id": bank_id}.items() if v is not None}
    grants = [g for g in user.grants if g.role == role and all(_binding(g)[k] == v for k, v in given.items())]
    if not grants:
        raise NotFound("该用户没有这个角色", code="role_not_found")
    if role == Role.admin and user.id == actor.id:
        raise DomainError("不能撤销自己的管理员角色", code="cannot_revoke_self")
    for grant in grants:
        for subscriber in _grant_changed:
            subscriber(user=user, grant=grant, granted=False)
        user.grants.remove(grant)
    db.session.flush()
    before = {"role": role.value, "place_ids": [g.place_id for g in grants]}
    for field, plural in (("provider_id", "provider_ids"), ("region_code", "region_codes"), ("bank_id", "bank_ids")):
        if any(_binding(g)[field] is not None for g in grants):
            before[plural] = [_binding(g)[field] for g in grants]
    audit.record(actor=actor, action="role.revoke", target_type="user", target_id=user.id, before=before)


# --- the administrators' people console ---------------------------------------------------------

def people_query(*, actor: User, q: str | None = None, phone: str | None = None, role: Role | None = None) -> sa.Select:
    """People, newest first: ``q`` is a phone (exact, through its blind index) or part of a name. A
    city or district administrator sees only the people of their region (scope.limit_people)."""
    from backend.core.validators import is_phone

    query = scope.limit_people(sa.select(User).order_by(User.id.desc()), user=actor)
    if q:
        q = q.strip()
        if is_phone(q):
            query = query.where(User.phone_hash == blind_index(q))
        else:
            query = query.where(User.name.contains(q, autoescape=True))
    if phone:
        query = query.where(User.phone_hash == blind_index(phone))
    if role is not None:
        query = query.where(User.id.in_(sa.select(RoleGrant.user_id).where(RoleGrant.role == role)))
    return query


def get_for_admin(*, actor: User, id: int) -> User:
    """A person the administrator may see (404 outside a city or district administrator's region)."""
    user = get_or_raise(id=id)
    scope.check_person(user, user=actor)
    return user


def admin_grant(*, actor: User, user: User, role: Role, values: dict) -> RoleGrant:
    """An administrator grants ``role`` bound as the role needs (bindings.check); a city or district
    administrator only bound inside their region (scope.check_binding, 403)."""
    from backend.accounts import bindings

    scope.check_binding(role=role.value, **{k: values.get(k) for k in bindings.FIELDS}, user=actor)
    bound = bindings.check(role, values)
    return grant_role(actor=actor, user=user, role=role, **bound)


def admin_revoke(*, actor: User, user: User, role: Role, values: dict) -> None:
    """An administrator revokes ``role`` (the grant bound to what is given, or every grant of it); a city
    or district administrator only grants bound inside their region (scope.check_binding)."""
    from backend.accounts import bindings

    given = {k: v for k, v in values.items() if k in bindings.FIELDS and v is not None}
    for grant in user.grants:
        if grant.role == role and role != Role.entrepreneur and all(_binding(grant)[k] == v for k, v in given.items()):
            scope.check_binding(role=role.value, **_binding(grant), user=actor)
    revoke_role(actor=actor, user=user, role=role, **given)


# What the domains above accounts do when an account is blocked or restored (devices: scanners stop
# accepting its codes). They subscribe when imported; accounts imports none of them.
_active_changed: list[Callable[..., None]] = []


def on_active_changed(fn: Callable[..., None]) -> Callable[..., None]:
    """Register ``fn(*, user, blocked)`` to run, in the same transaction, when an account is blocked or restored."""
    if fn not in _active_changed:
        _active_changed.append(fn)
    return fn


def set_active(*, actor: User, user: User, active: bool) -> User:
    if user.id == actor.id and not active:
        raise DomainError("不能停用自己的账号", code="cannot_block_self")
    if user.is_active != active:
        user.is_active = active
        for subscriber in _active_changed:
            subscriber(user=user, blocked=not active)
        audit.record(actor=actor, action="user.block" if not active else "user.restore", target_type="user",
                     target_id=user.id, before={"is_active": not active}, after={"is_active": active})
    db.session.flush()
    return user


# --- phone + one-time code ---------------------------------------------------------------------

def _code_digest(phone_hash: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def request_login_code(*, phone: str) -> SmsCode:
    cfg = current_app.config
    phone_hash = blind_index(phone)
    now = utcnow()
    latest = db.session.scalar(
        sa.select(SmsCode).where(SmsCode.phone_hash == phone_hash).order_by(SmsCode.id.desc()).limit(1)
    )
    if latest and latest.used_at is None and now - latest.created_at < timedelta(seconds=cfg["SMS_RESEND_SECONDS"]):
        wait = cfg["SMS_RESEND_SECONDS"] - int((now - latest.created_at).total_seconds())
        raise DomainError(f"验证码已发送，请 {wait} 秒后再试", code="resend_too_soon", status=429,
                          details={"retry_after": wait})
    code = f"{secrets.randbelow(10**6):06d}"
    entry = SmsCode(
        phone_hash=phone_hash,
        code_hash=_code_digest(phone_hash, code),
        expires_at=now + timedelta(seconds=cfg["SMS_CODE_TTL_SECONDS"]),
    )
    db.session.add(entry)
    db.session.flush()
    sms.sender().send_login_code(phone=phone, code=code, ttl_seconds=cfg["SMS_CODE_TTL_SECONDS"])
    return entry


def login_with_code(*, phone: str, code: str) -> User:
    """Check the latest code for the phone. Each guess is counted before it is compared, in one
    guarded UPDATE committed at once: a hundred guesses sent together compare at most the limit."""
    cfg = current_app.config
    phone_hash = blind_index(phone)
    entry = db.session.scalar(
        sa.select(SmsCode).where(SmsCode.phone_hash == phone_hash).order_by(SmsCode.id.desc()).limit(1)
    )
    if entry is None or entry.used_at is not None:
        raise DomainError("验证码错误，请重新获取", code="code_invalid")
    if entry.expires_at <= utcnow():
        raise DomainError("验证码已过期，请重新获取", code="code_expired")
    limit = cfg["SMS_CODE_MAX_ATTEMPTS"]
    attempts = db.session.execute(
        sa.update(SmsCode)
        .where(SmsCode.id == entry.id, SmsCode.attempts < limit, SmsCode.used_at.is_(None))
        .values(attempts=SmsCode.attempts + 1)
        .returning(SmsCode.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()  # the attempt counts even though this request may fail
    if attempts is None:
        raise DomainError("错误次数过多，请重新获取验证码", code="too_many_attempts", status=429)
    if not hmac.compare_digest(entry.code_hash, _code_digest(phone_hash, code)):
        left = max(limit - attempts, 0)
        raise DomainError("验证码错误", code="code_invalid", details={"attempts_left": left})
    claimed = db.session.execute(
        sa.update(SmsCode).where(SmsCode.id == entry.id, SmsCode.used_at.is_(None)).values(used_at=utcnow())
    ).rowcount
    if claimed != 1:  # the same code used by a concurrent request
        raise DomainError("验证码已使用，请重新获取", code="code_invalid")
    user = find_by_phone(phone=phone) or create_user(phone=phone)
    _ensure_active(user)
    return user


def _ensure_active(user: User) -> None:
    if not user.is_active:
        raise DomainError("账号已停用，请联系管理员", code="account_disabled", status=403)


def demo_login(*, role: str) -> User:
    if not current_app.config["DEMO_LOGIN"]:
        raise NotFound("演示登录未开启", code="demo_disabled")
    phone = DEMO_ACCOUNTS[role][1]
    user = find_by_phone(phone=phone)
    if user is None:
        raise NotFound("演示账号不存在，请先运行 flask seed-demo", code="demo_account_missing")
    return user


def demo_accounts() -> list[dict]:
    if not current_app.config["DEMO_LOGIN"]:
        raise NotFound("演示登录未开启", code="demo_disabled")
    accounts = []
    for key, (_, phone, _, _, label) in DEMO_ACCOUNTS.items():
        user = find_by_phone(phone=phone)
        if user is not None:
            accounts.append({"role": key, "label": label, "name": user.name,
                             "phone_masked": phone[:3] + "****" + phone[-4:]})
    return accounts


# --- WeChat --------------------------------------------------------------------------------

def login_with_wechat(*, app: WechatApp, code: str) -> User:
    ident = wechat.exchange_code(app=app, code=code)
    identity = db.session.scalar(
        sa.select(WechatIdentity).where(WechatIdentity.appid == ident["appid"], WechatIdentity.openid == ident["openid"])
    )
    if identity is None and ident["unionid"]:
        # the same person through another WeChat app of ours: same unionid, same account
        sibling = db.session.scalar(
            sa.select(WechatIdentity).where(WechatIdentity.unionid == ident["unionid"]).limit(1)
        )
        user = sibling.user_id if sibling else None
        identity = WechatIdentity(app=app, appid=ident["appid"], openid=ident["openid"], unionid=ident["unionid"],
                                  user_id=user or create_user(phone=None).id)
        db.session.add(identity)
    elif identity is None:
        identity = WechatIdentity(app=app, appid=ident["appid"], openid=ident["openid"],
                                  user_id=create_user(phone=None).id)
        db.session.add(identity)
    elif ident["unionid"] and not identity.unionid:
        identity.unionid = ident["unionid"]
    db.session.flush()
    user = get_or_raise(id=identity.user_id)
    _ensure_active(user)
    return user


# --- tokens --------------------------------------------------------------------------------

def issue_tokens(*, user: User) -> dict:
    identity = str(user.id)
    return {
        "access_token": create_access_token(identity=identity),
        "refresh_token": create_refresh_token(identity=identity),
        "user": user,
    }


def is_revoked(*, jti: str) -> bool:
    return db.session.get(RevokedToken, jti) is not None


def revoke_token(*, user: User, jti: str, expires_at: datetime) -> None:
    if db.session.get(RevokedToken, jti) is None:
        db.session.add(RevokedToken(jti=jti, user_id=user.id, expires_at=expires_at))
        db.session.flush()


def logout(*, user: User, access_claims: dict, refresh_token: str | None) -> None:
    revoke_token(user=user, jti=access_claims["jti"], expires_at=_exp(access_claims))
    if refresh_token:
        try:
            claims = decode_token(refresh_token, allow_expired=True)
        except Exception as exc:  # noqa: BLE001 - any undecodable token is simply not ours
            raise DomainError("刷新令牌无效", code="token_invalid", status=400) from exc
        if claims.get("type") != "refresh" or claims.get("sub") != str(user.id):
            raise DomainError("刷新令牌无效", code="token_invalid", status=400)
        revoke_token(user=user, jti=claims["jti"], expires_at=_exp(claims))


def _exp(claims: dict) -> datetime:
    return datetime.fromtimestamp(claims["exp"], tz=timezone.utc)


# --- profile -------------------------------------------------------------------------------

PROFILE_FIELDS = ("subject_type", "org_name", "credit_code", "founded_on", "district")


def update_me(*, user: User, data: dict) -> User:
    if "name" in data:
        user.name = data["name"]
    profile_data = data.get("profile")
    if profile_data:
        profile = user.profile or EntrepreneurProfile()
        user.profile = profile
        for key in PROFILE_FIELDS:
            if key in profile_data:
                setattr(profile, key, profile_data[key])
        if "id_number" in profile_data:
            value = profile_data["id_number"]
            profile.id_number = value
            profile.id_number_hash = blind_index(value) if value else None
    db.session.flush()
    return user


def purge_expired(*, now=None) -> dict:
    """Delete login codes past their time and revoked-token entries whose token has expired anyway
    (a revoked token only needs remembering until it would have stopped working). Run daily."""
    now = now or utcnow()
    codes = db.session.execute(sa.delete(SmsCode).where(SmsCode.expires_at < now)).rowcount
    tokens = db.session.execute(sa.delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount
    return {"sms_codes": codes, "revoked_tokens": tokens}
