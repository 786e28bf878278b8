"""Chinese identifiers: mobile numbers, resident ID numbers, unified social credit codes."""
from __future__ import annotations

import re
from datetime import date

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def is_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value or ""))


def id_number_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def is_id_number(value: str) -> bool:
    """18-character resident ID: region, valid birth date, ISO 7064 MOD 11-2 check character."""
    if not value or len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    return id_number_check_char(value[:17]) == value[17]


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    """统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""
    if not value or not CREDIT_RE.match(value):
        return False
    return credit_code_check_char(value[:17]) == value[17]


def mask_phone(value: str | None) -> str | None:
    if not value:
        return None
    return value[:3] + "****" + value[-4:]


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return None
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: enough for staff to greet, not to identify."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
