import pytest

from backend.core import validators as v
from tests.factories import valid_credit_code, valid_id_number


@pytest.mark.parametrize("value,ok", [
    ("13800000001", True), ("19900000005", True), ("12800000001", False), ("1380000000", False),
    ("138000000011", False), ("1380000000a", False), ("", False),
])
def test_phone(value, ok):
    assert v.is_phone(value) is ok


def test_id_number_check_character():
    # a published sample number with check character X
    assert v.is_id_number("11010519491231002X")
    assert not v.is_id_number("110105194912310021")  # wrong check character


@pytest.mark.parametrize("value", [
    "37081119900230123X",  # 30 February
    "370811" + "2999" + "0101" + "1234",  # born in the future
    "3708111990030712",  # too short
    "37081119900307123Y",
])
def test_id_number_rejects(value):
    assert not v.is_id_number(value)


def test_id_number_generated_is_valid_and_one_digit_off_is_not():
    good = valid_id_number()
    assert v.is_id_number(good)
    bad = good[:5] + str((int(good[5]) + 1) % 10) + good[6:]
    assert not v.is_id_number(bad)


def test_credit_code_known_good_and_typo():
    assert v.is_credit_code("91350100M000100Y43")  # published example
    assert not v.is_credit_code("91350100M000100Y44")
    assert not v.is_credit_code("91350100M000100I43")  # I is not in the alphabet
    assert v.is_credit_code(valid_credit_code())


def test_masks():
    assert v.mask_phone("13812345678") == "138****5678"
    assert v.mask_id_number("370811199003071234") == "3708**********1234"
    assert v.mask_phone(None) is None
