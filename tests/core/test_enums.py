"""Enums carry their Chinese label on the member; the *_LABELS maps are derived from them."""
import pytest

from backend.core.enums import LabelledEnum


class Colour(LabelledEnum):
    red = "red", "红"
    green = "green", "绿"


def test_a_member_is_its_value_and_knows_its_label():
    assert Colour.red == "red" and str(Colour.red) == "red" and Colour("green") is Colour.green
    assert Colour.green.label == "绿"
    assert {"red": 1}[Colour.red] == 1


def test_labels_keep_the_declared_order():
    assert list(Colour.labels().items()) == [(Colour.red, "红"), (Colour.green, "绿")]


def test_an_unknown_value_is_refused():
    with pytest.raises(ValueError):
        Colour("blue")


def test_the_domains_labels_are_their_members_labels():
    from backend.events.enums import REGISTRATION_LABELS, RegistrationState
    from backend.vouchers.enums import LEDGER_LABELS, LedgerKind

    assert REGISTRATION_LABELS[RegistrationState.waitlisted] == "候补中"
    assert LEDGER_LABELS["reverse"] == LedgerKind.reverse.label == "撤销退回"


def test_output_fields_show_a_member_as_its_value_or_label_and_none_as_none():
    from types import SimpleNamespace

    from backend.core import fields
    from backend.core.schemas import Schema

    class Out(Schema):
        colour = fields.enum_value("colour", allow_none=True)
        colour_label = fields.enum_label("colour", allow_none=True)

    assert Out().dump(SimpleNamespace(colour=Colour.green)) == {"colour": "green", "colour_label": "绿"}
    assert Out().dump(SimpleNamespace(colour=None)) == {"colour": None, "colour_label": None}
