"""The station channel of the check-in engine: staff (a provisioned scanner or their own phone) scan
people's personal codes at a street, market, space or 创贷之家 station. The subject is the person's
visit to the place that local day (one ``Visit`` per person, place and day); a scan also carries the
visit's purpose and, now and then, a service note."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from backend.accounts.models import User
from backend.checkins import engine
from backend.checkins.enums import PURPOSE_LABELS, Channel, ScanResult, VisitPurpose, VisitSource
from backend.checkins.models import Scan, Visit, VisitNote
from backend.core import codes
from backend.core.codes import CodeError
from backend.core.keys import keyring
from backend.core.localtime import LOCAL
from backend.core.validators import mask_name
from backend.devices.models import PersonalDevice
from backend.extensions import db

FAR = 10 ** 10  # seconds: a window no code is outside of, to learn whose code it was


def ingest(*, items: list[dict], place_id: int, sent_at: datetime | None = None, device=None, staff=None) -> list[dict]:
    """The scanner's upload (``POST /api/checkins/sync``)."""
    channel = StationChannel(place_id=place_id, device=device, staff=staff)
    return engine.perform(items=items, channel=channel, sent_at=sent_at, device=device, staff=staff,
                          place_id=place_id)


class StationChannel:
    name = Channel.place
    forced_counts = True  # a person let in offline visited: the visit is counted, with its reason

    def __init__(self, *, place_id: int, device, staff):
        self.place_id, self.device, self.staff = place_id, device, staff

    # --- whose code -------------------------------------------------------------------------------

    def identify(self, items: list[engine.Item]) -> None:
        cfg = current_app.config
        keys = keyring().public_keys()
        for item in items:
            item.columns = {"purpose": item.raw["purpose"]}
            if item.reason:
                continue
            data = None
            try:
                data = codes.from_text(item.code)
                personal = codes.verify_personal(data, keys=keys, now=item.scanned_at.timestamp(),
                                                 window=cfg["PERSONAL_CODE_WINDOW"], skew=cfg["PERSONAL_CODE_SKEW"])
            except CodeError as exc:
                item.reason = exc.code
                if exc.code not in ("not_yet_valid", "expired"):
                    continue
                try:  # the signatures are good but the time is wrong: we can still say whose code it was
                    personal = codes.verify_personal(data, keys=keys, now=item.scanned_at.timestamp(), window=FAR,
                                                     skew=FAR)
                except CodeError:
                    continue
            item.user_id = personal.user_id
            item.device_key_id = personal.device_id
            item.key = (personal.user_id, item.scanned_at.astimezone(LOCAL).date())
        self._people(items)

    def _people(self, items: list[engine.Item]) -> None:
        """Revoked phones and disabled people, for the whole batch in one query."""
        ids = {item.device_key_id for item in items if item.user_id is not None}
        if not ids:
            return
        rows = db.session.execute(sa.select(PersonalDevice.id, PersonalDevice.user_id, PersonalDevice.revoked_at,
                                            User.is_active).join(User, User.id == PersonalDevice.user_id)
                                  .where(engine.among(PersonalDevice.id, sorted(ids)))).all()
        found = {row.id: row for row in rows}
        for item in items:
            if item.user_id is None or item.reason:
                continue
            row = found.get(item.device_key_id)
            if row is None or row.user_id != item.user_id or row.revoked_at is not None:
                item.reason = "revoked"
            elif not row.is_active:
                item.reason = "user_blocked"

    # --- the visit --------------------------------------------------------------------------------

    def claim(self, items: list[engine.Item], *, now: datetime) -> dict:
        """One visit per person, place and day; an earlier scan replaces the one that holds it."""
        items = sorted(items, key=lambda item: item.key)  # the lock order
        device_id = self.device.id if self.device else None
        staff_id = self.staff.id if self.staff else None
        values = [{"place_id": self.place_id, "user_id": item.user_id, "day": item.key[1],
                   "purpose": item.raw["purpose"], "source": VisitSource.staff_scan, "visited_at": item.scanned_at,
                   "received_at": now, "device_id": device_id, "staff_id": staff_id, "offline": item.offline,
                   "forced_reason": item.reason, "scan_nonce": item.nonce} for item in items]
        statement = engine.rows_statement(Visit, values)
        replaced = ("purpose", "source", "visited_at", "device_id", "staff_id", "offline", "forced_reason",
                    "scan_nonce")
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["place_id", "user_id", "day"],
            set_={name: statement.excluded[name] for name in replaced},
            where=Visit.__table__.c.visited_at > statement.excluded.visited_at))
        # the batch's people and days as two arrays (one parameter each on PostgreSQL) rather than a
        # (user, day) IN list of a thousand parameters; pairs outside the batch are dropped here
        keys = {item.key for item in items}
        rows = db.session.execute(sa.select(Visit.id, Visit.user_id, Visit.day, Visit.scan_nonce).where(
            Visit.place_id == self.place_id, engine.among(Visit.user_id, sorted({key[0] for key in keys})),
            engine.among(Visit.day, sorted({key[1] for key in keys})))).all()
        return {(row.user_id, row.day): (row.id, row.scan_nonce) for row in rows if (row.user_id, row.day) in keys}

    def link(self, item: engine.Item, subject_id: int | None) -> None:
        item.columns["visit_id"] = subject_id

    def after(self, items: list[engine.Item], *, now: datetime) -> None:
        staff_id = self.staff.id if self.staff else None
        notes = [{"visit_id": item.columns["visit_id"], "staff_id": staff_id, "nonce": item.nonce, "created_at": now,
                  "text": note.get("text", ""), "loan_amount": note.get("loan_amount"),
                  "business_type": note.get("business_type", ""), "referred_bank": note.get("referred_bank", "")}
                 for item in items if (note := item.raw.get("note")) and item.columns.get("visit_id")]
        engine.bulk_insert(VisitNote, notes, conflict=["nonce"])

    def subject_column(self):
        return Scan.visit_id

    def maker_nonce(self):
        return sa.select(Visit.scan_nonce).where(Visit.id == Scan.visit_id).correlate_except(Visit).scalar_subquery()

    # --- the answer -------------------------------------------------------------------------------

    def answers(self, scans: list[Scan]) -> dict[str, dict]:
        # plain rows read now (claim() changed the visits behind the session's back): what the answer shows
        ids = sorted({scan.visit_id for scan in scans if scan.visit_id})
        visits = {visit.id: visit for visit in db.session.execute(
            sa.select(Visit.id, Visit.purpose, Visit.visited_at).where(engine.among(Visit.id, ids)))} if ids else {}
        return {scan.nonce: answer(scan, visits.get(scan.visit_id)) for scan in scans}


def answer(scan: Scan, visit) -> dict:
    """What the scanner is told about one stored scan (the first time and on every replay)."""
    out = {"nonce": scan.nonce, "result": scan.result.value, "code": scan.reason, "conflict": scan.conflict,
           "replayed": False, "visit": None}
    if scan.result == ScanResult.rejected or visit is None:
        return {**out, "message": engine.message(scan.reason)}
    when = visit.visited_at.astimezone(LOCAL)
    out["message"] = {
        ScanResult.ok: "签到成功",
        ScanResult.duplicate: f"今日已到访（{when:%H:%M}），不重复计数",
        ScanResult.forced: engine.FORCED_PREFIX + engine.message(scan.reason),
    }[scan.result]
    purpose = VisitPurpose(visit.purpose)
    out["visit"] = {"id": visit.id, "name": mask_name(scan.user.name if scan.user else None) or "未填姓名",
                    "purpose": purpose.value, "purpose_label": PURPOSE_LABELS[purpose],
                    "visited_at": visit.visited_at}
    return out
