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
              place=None):
    user = accounts.create_user(phone=phone or next_phone(), name=name, roles=())
    accounts.grant_role(actor=None, user=user, role=Role(role), place_id=place.id if place else None)
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
