"""The sync upload's one-pass reading of items and writing of answers (fields.PlainFirstList with schemas._plain_item, and SyncResults)
gives exactly what SyncItemIn / SyncResultOut give: the same dicts, the same Chinese errors per index."""
from datetime import datetime, timezone

import marshmallow as ma
import pytest

from backend.checkins import schemas
from backend.core import fields

GOOD = {"nonce": "n" * 16, "code": "CY:" + "A" * 60, "purpose": "loan", "scanned_at": "2026-12-04T10:00:00+08:00",
        "offline": True}

SHAPES = [
    GOOD,
    {**GOOD, "scanned_at": "2026-12-04T02:00:00Z"},
    {**GOOD, "scanned_at": "2026-12-04T02:00:00.123456+00:00", "unknown": 1},
    {k: v for k, v in GOOD.items() if k not in ("scanned_at", "offline")},
    {**GOOD, "scanned_at": None, "offline": False, "note": None},
    {**GOOD, "purpose": "policy", "nonce": "A-b_" * 16},
    {**GOOD, "code": "x" * 10}, {**GOOD, "code": "x" * 800},
    # every one of these is refused or read another way by SyncItemIn: the one pass must agree
    {**GOOD, "nonce": "n" * 15}, {**GOOD, "nonce": "n" * 65}, {**GOOD, "nonce": "n" * 16 + "\n"},
    {**GOOD, "nonce": "n" * 15 + "!"}, {**GOOD, "nonce": 1234567890123456}, {**GOOD, "nonce": None},
    {k: v for k, v in GOOD.items() if k != "nonce"},
    {**GOOD, "code": "x" * 9}, {**GOOD, "code": "x" * 801}, {**GOOD, "code": "CY:AAAA\x00AAAAAA"},
    {**GOOD, "code": "CY:AAAA\u202eAAAAAA"}, {**GOOD, "code": "CY:AAAA\tAAAAAA"}, {**GOOD, "code": 12345678901},
    {**GOOD, "purpose": "LOAN"}, {**GOOD, "purpose": "label"}, {**GOOD, "purpose": None}, {**GOOD, "purpose": 1},
    {k: v for k, v in GOOD.items() if k != "purpose"},
    {**GOOD, "scanned_at": "2026-12-04T10:00:00"}, {**GOOD, "scanned_at": "yesterday"}, {**GOOD, "scanned_at": ""},
    {**GOOD, "scanned_at": 1764800000}, {**GOOD, "scanned_at": "1999-12-31T23:59:59+00:00"},
    {**GOOD, "scanned_at": "2101-01-01T00:00:00+00:00"}, {**GOOD, "scanned_at": "2000-01-01T07:59:59+08:00"},
    {**GOOD, "offline": "true"}, {**GOOD, "offline": 1}, {**GOOD, "offline": None},
    {**GOOD, "note": {"text": "申请贷款", "loan_amount": 5_000_000}}, {**GOOD, "note": "x"},
    [GOOD], "item", None, 5,
]


def loaded(schema, value):
    try:
        return "ok", schema.load(value)
    except ma.ValidationError as error:
        return "error", error.messages


class ReferenceIn(schemas.SyncIn):
    """SyncIn as it was: marshmallow's List of SyncItemIn."""
    items = fields.List(fields.Nested(schemas.SyncItemIn), required=True,
                        validate=schemas.SyncIn._declared_fields["items"].validators)


@pytest.mark.parametrize("shape", SHAPES, ids=[f"shape{i}" for i in range(len(SHAPES))])
def test_one_pass_reads_an_item_as_sync_item_in_does(shape):
    body = {"items": [{**GOOD, "nonce": "o" * 16}, shape, shape]}  # twice: the nonce rule sees it too
    ours, theirs = loaded(schemas.SyncIn(), body), loaded(ReferenceIn(), body)
    assert ours == theirs
    single = {"items": [shape]}
    assert loaded(schemas.SyncIn(), single) == loaded(ReferenceIn(), single)


def test_a_plain_item_is_not_sent_through_marshmallow(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("marshmallow loaded a plain item")

    monkeypatch.setattr(fields.Nested, "deserialize", refuse)
    assert len(schemas.SyncIn().load({"items": [{**GOOD, "nonce": f"{n:016d}"} for n in range(500)]})["items"]) == 500


class ReferenceOut(schemas.Schema):
    results = fields.List(fields.Nested(schemas.SyncResultOut), required=True)
    server_time = fields.DateTime(required=True)


ANSWERS = [
    {"nonce": "n" * 16, "result": "ok", "code": None, "conflict": False, "replayed": False, "message": "签到成功",
     "visit": {"id": 3, "name": "测***", "purpose": "loan", "purpose_label": "贷款咨询",
               "visited_at": datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)}},
    {"nonce": "n" * 16, "result": "rejected", "code": "bad_signature", "conflict": False, "replayed": True,
     "message": "二维码签名无效，可能是伪造的", "visit": None},
    {"nonce": "n" * 16, "result": "rejected", "code": "nonce_reused", "message": "扫码编号已被使用，请重新扫码",
     "conflict": False, "replayed": False, "visit": None, "registration": None},
    {"nonce": "n" * 16, "result": schemas.Channel.place, "code": None, "conflict": 0, "replayed": False,
     "message": "x", "visit": {"id": "3", "name": None, "purpose": "loan", "purpose_label": "贷款咨询",
                              "visited_at": datetime(2026, 12, 4, 2, 0)}},
    {"nonce": "n" * 16, "result": "ok", "message": "x"},
]


def test_one_pass_writes_answers_as_sync_result_out_does():
    data = {"results": ANSWERS, "server_time": datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)}
    assert schemas.SyncOut().dump(data) == ReferenceOut().dump(data)
