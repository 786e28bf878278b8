"""The field types every schema uses (``from backend.core import fields``): marshmallow's, with the
input rules of this project built in, so no schema can forget them.

- ``String`` refuses control characters (Unicode Cc), bidirectional embeddings/overrides/isolates
  (U+202A–U+202E, U+2066–U+2069, the "Trojan Source" characters that make text display other than it
  reads) and lone surrogates (no database can store them). Single-line by default: a name or a title
  refuses newlines and tabs too; ``String(multiline=True)`` (descriptions, notes, reasons) keeps ``\\n``
  and ``\\t``. The invisible direction *marks* U+200E/U+200F are allowed: text copied from Windows
  carries them, and alone they cannot reorder letters.
- ``Integer`` is strict (a JSON integer only: not 1.5, 1.0, "1", true or NaN; query-string text is made
  an int by the parser, ``core.api.Parser``) and bounded by what its column holds: a Range validator
  within its ``LIMITS`` or, without one, ``LIMITS`` itself. A Range wider than the type is refused when
  the schema is defined. ``Id`` is an INTEGER primary key (1..2³¹−1); ``Fen`` an amount in a BIGINT
  column (0..MAX_FEN).
- ``Date``/``DateTime``/``AwareDateTime`` accept years 2000..2100 only (one field may widen it, e.g. a
  firm's founding date), so every value survives conversion to UTC and to Asia/Shanghai.

``core.schemas.Schema`` refuses marshmallow's own String/Integer/Date/DateTime in its fields.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from marshmallow import ValidationError, validate
from marshmallow import fields as ma_fields
from marshmallow.fields import *  # noqa: F401,F403 - the rest of marshmallow's fields, unchanged

INT32 = (-2**31, 2**31 - 1)
# Amounts are integer fen in BIGINT columns. ¥10,000,000,000.00 is more than any programme's budget,
# and a thousand such amounts summed stay exact in a JavaScript number (2⁵³ ≈ 9×10¹⁵).
MAX_FEN = 10**12

EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)

_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # Cc but \t and \n
_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATE = "\ud800-\udfff"
_LINE_BREAKS = "\t\n\u2028\u2029"
_BAD_MULTILINE = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}]")
_BAD_SINGLE_LINE = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}{_LINE_BREAKS}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why this text may not be stored (a Chinese message), or None."""
    found = (_BAD_MULTILINE if multiline else _BAD_SINGLE_LINE).search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "不能包含空字符"
    if char in _LINE_BREAKS:
        return "不能包含换行符或制表符"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return "不能包含文字方向控制字符"
    if "\ud800" <= char <= "\udfff":
        return "不是有效的 UTF-8 文本"
    return "不能包含控制字符"


class String(ma_fields.String):
    def __init__(self, *, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


class Integer(ma_fields.Integer):
    LIMITS = INT32
    default_error_messages = {"invalid": "应为整数", "out_of_range": "数值超出范围"}

    def __init__(self, **kwargs):
        if kwargs.pop("strict", True) is not True:
            raise TypeError("integers are always strict here")
        super().__init__(strict=True, **kwargs)
        low, high = self.LIMITS
        ranges = [v for v in self.validators if isinstance(v, validate.Range)]
        for given in ranges:
            if given.min is None or given.max is None or given.min < low or given.max > high:
                raise ValueError(f"{type(self).__name__}: range {given.min}..{given.max} is not within {low}..{high}")
        if not ranges:
            self.validators.append(validate.Range(low, high, error=self.error_messages["out_of_range"]))


class Id(Integer):
    """A row id (INTEGER primary key)."""

    LIMITS = (1, INT32[1])
    default_error_messages = {"out_of_range": "编号不正确"}


class Fen(Integer):
    """An amount in fen (BIGINT column)."""

    LIMITS = (0, MAX_FEN)
    default_error_messages = {"out_of_range": "金额应在 0 到 100 亿元之间（单位：分）"}


class _Bounded:
    """Dates and times within ``earliest``..``latest`` (inclusive days)."""

    def __init__(self, *args, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest, self.latest = earliest, latest

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(result, datetime):
            tz = timezone.utc if result.tzinfo is not None else None
            low = datetime(self.earliest.year, self.earliest.month, self.earliest.day, tzinfo=tz)
            high = datetime(self.latest.year, self.latest.month, self.latest.day, 23, 59, 59, 999999, tzinfo=tz)
            inside, what = low <= result <= high, "时间"
        else:
            inside, what = self.earliest <= result <= self.latest, "日期"
        if not inside:
            raise ValidationError(f"{what}应在 {self.earliest.isoformat()} 到 {self.latest.isoformat()} 之间")
        return result


class Date(_Bounded, ma_fields.Date):
    pass


class DateTime(_Bounded, ma_fields.DateTime):
    pass


class AwareDateTime(_Bounded, ma_fields.AwareDateTime):
    pass


PROJECT_TYPES = {ma_fields.String: String, ma_fields.Integer: Integer, ma_fields.Date: _Bounded,
                 ma_fields.DateTime: _Bounded}


def foreign_leaf(field: ma_fields.Field) -> ma_fields.Field | None:
    """The first field in ``field`` (itself, a list's items, a dict's values…) that is marshmallow's own
    String/Integer/Date/DateTime where this module's is required, or None."""
    for base, ours in PROJECT_TYPES.items():
        if isinstance(field, base) and not isinstance(field, ours):
            return field
    inner = []
    if isinstance(field, ma_fields.List):
        inner = [field.inner]
    elif isinstance(field, ma_fields.Tuple):
        inner = list(field.tuple_fields)
    elif isinstance(field, ma_fields.Mapping):
        inner = [f for f in (field.key_field, field.value_field) if f is not None]
    for each in inner:
        found = foreign_leaf(each)
        if found is not None:
            return found
    return None



def enum_value(attribute: str, **kwargs) -> ma_fields.Function:
    """An enum attribute as its value (None stays None), for output."""
    return ma_fields.Function(lambda obj: _shown(getattr(obj, attribute), "value"), **kwargs)


def enum_label(attribute: str, **kwargs) -> ma_fields.Function:
    """A labelled enum attribute (core/enums.py) as its Chinese label (None stays None), for output."""
    return ma_fields.Function(lambda obj: _shown(getattr(obj, attribute), "label"), **kwargs)


def _shown(member, what: str):
    return None if member is None else getattr(member, what)


class PlainFirstList(ma_fields.List):
    """A list of nested items read in one pass: ``plain(raw)`` reads the usual item by plain checks and
    returns exactly what the nested schema would load (or None), any other item goes through the nested
    schema, so every refusal keeps its Chinese message at its index. For batches on hot paths (a
    marshmallow load of 500 scanner items was a sixth of a batch's CPU; on the door's one-scan request
    the nested load was most of the schema's cost)."""

    def __init__(self, cls_or_instance, *, plain, **kwargs):
        super().__init__(cls_or_instance, **kwargs)
        self.plain = plain

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is not list:
            return super()._deserialize(value, attr, data, **kwargs)
        result, errors = [], {}
        for index, raw in enumerate(value):
            item = self.plain(raw)
            if item is None:
                try:
                    item = self.inner.deserialize(raw, **kwargs)
                except ValidationError as error:
                    if error.valid_data is not None:
                        result.append(error.valid_data)
                    errors[index] = error.messages
                    continue
            result.append(item)
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result
