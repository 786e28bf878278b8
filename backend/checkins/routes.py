"""Check-in endpoints, thin: the entrepreneur's poster scan, the scanner's batch upload, what station
staff see, the figures, the export, and the review of scans that went wrong."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import g, request
from flask.views import MethodView
from flask_jwt_extended import current_user, verify_jwt_in_request

from backend.accounts.enums import Role
from backend.checkins import schemas, service, station
from backend.core.api import blueprint, download
from backend.core.auth import roles_required
from backend.core.db import utcnow
from backend.core.errors import DomainError, Forbidden
from backend.devices import service as devices

checkins_blp = blueprint("checkins", __name__, "/api/checkins", "场所签到：扫场所码、工作人员扫码、离线批量上传、统计")
my_visits_blp = blueprint("my_visits", __name__, "/api/me/visits", "我的到访记录")
review_blp = blueprint("checkin_review", __name__, "/api/admin/checkin-scans", "签到核查（场所与活动）：失败、离线放行、多设备重复")

STAFF = (Role.station_staff, Role.admin)
SCANNER_SECURITY = [{"deviceToken": []}, {"bearer": []}]


def scanner_or_staff(*, allow_revoked_device: bool = False):
    """A provisioned scanner (X-Device-Token), signed-in station staff / admins, or both (then the
    visit records the staff member too)."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            token = request.headers.get("X-Device-Token")
            g.scanner = devices.authenticate_scanner(token, allow_revoked=allow_revoked_device) if token else None
            g.staff = None
            if request.headers.get("Authorization") or g.scanner is None:
                verify_jwt_in_request()
                if not current_user.has_role(*STAFF):
                    raise Forbidden("只有驿站、街区或空间的工作人员可以扫码签到", code="forbidden")
                g.staff = current_user
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def _place_ids():
    return service.staff_place_ids(current_user)


# --- the entrepreneur -----------------------------------------------------------------------------

@checkins_blp.route("/visits")
class Visits(MethodView):
    @roles_required(Role.entrepreneur)
    @checkins_blp.arguments(schemas.SelfCheckInIn)
    @checkins_blp.response(201, schemas.SelfCheckInOut)
    @checkins_blp.alt_response(200, schema=schemas.SelfCheckInOut, description="already here today: that visit")
    def post(self, data):
        """I scanned the place's poster: record my visit (once per place and day) with its purpose."""
        visit, created = service.self_check_in(user=current_user, **data)
        message = "签到成功" if created else f"今天已在这里签到（{visit.visited_at.astimezone(service.LOCAL):%H:%M}）"
        return {"visit": visit, "created": created, "message": message}, 201 if created else 200

    @roles_required(*STAFF)
    @checkins_blp.arguments(schemas.VisitQueryIn, location="query")
    @checkins_blp.paged(schemas.VisitOut)
    def get(self, args):
        """Visits at my places (administrators: everywhere), newest first."""
        places = _place_ids()
        if args.get("place_id"):
            if places is not None and args["place_id"] not in places:
                raise Forbidden("您不是该场所的工作人员", code="forbidden")
            places = [args.pop("place_id")]
        args.pop("place_id", None)
        return service.visits_query(place_ids=places, **args)


@my_visits_blp.route("")
class MyVisits(MethodView):
    @roles_required(Role.entrepreneur)
    @my_visits_blp.paged(schemas.VisitOut)
    def get(self):
        """My visits, newest first."""
        return service.my_visits_query(user=current_user)


# --- the scanner ----------------------------------------------------------------------------------

@checkins_blp.route("/sync")
class Sync(MethodView):
    @scanner_or_staff(allow_revoked_device=True)
    @checkins_blp.doc(security=SCANNER_SECURITY)
    @checkins_blp.arguments(schemas.SyncIn)
    @checkins_blp.response(200, schemas.SyncOut)
    def post(self, data):
        """Staff scanned people's personal codes: one scan online, or the queue after being offline.
        Each item carries the scanner's nonce and scan time, plus ``sent_at`` (the device's clock now) so
        a device whose clock is off is corrected. Answers per item: ok, duplicate (already here today),
        forced (let in offline, refused now: kept with a reason) or rejected (in the failed-scan log).
        The same batch sent twice writes nothing the second time."""
        place_id = service.scanning_place(device=g.scanner, staff=g.staff, place_id=data.get("place_id"))
        results = station.ingest(items=data["items"], place_id=place_id, sent_at=data.get("sent_at"), device=g.scanner,
                                staff=g.staff)
        return {"results": results, "server_time": utcnow()}


@checkins_blp.route("/today")
class Today(MethodView):
    @scanner_or_staff()
    @checkins_blp.doc(security=SCANNER_SECURITY)
    @checkins_blp.arguments(schemas.TodayIn, location="query")
    @checkins_blp.response(200, schemas.TodayOut)
    def get(self, args):
        """Today's visits at the place, by purpose, and when the last scan reached the server."""
        place_id = service.scanning_place(device=g.scanner, staff=g.staff, place_id=args.get("place_id"))
        return service.today_at(place_id=place_id)


# --- figures, export, review ----------------------------------------------------------------------

@checkins_blp.route("/figures")
class Figures(MethodView):
    @roles_required(*STAFF)
    @checkins_blp.arguments(schemas.VisitFiguresIn, location="query")
    @checkins_blp.response(200, schemas.VisitFiguresOut)
    def get(self, args):
        """Visits per district or place, by purpose, per day or month (station staff: their places)."""
        return service.figures(place_ids=_place_ids(), **args)


@checkins_blp.route("/export")
class Export(MethodView):
    @roles_required(*STAFF)
    @checkins_blp.arguments(schemas.VisitExportIn, location="query")
    @checkins_blp.file_response()
    def get(self, args):
        """Visits between two days as XLSX or CSV (names masked), with staff's service notes."""
        if args["day_to"] - args["day_from"] > timedelta(days=366):
            raise DomainError("一次最多导出一年的记录", code="range_too_long", status=422)
        return download(service.export(place_ids=_place_ids(), day_from=args["day_from"], day_to=args["day_to"],
                                       fmt=args["format"]))


@review_blp.route("")
class Review(MethodView):
    @roles_required(Role.admin)
    @review_blp.arguments(schemas.ReviewQueryIn, location="query")
    @review_blp.paged(schemas.CheckinScanOut)
    def get(self, args):
        """Scans to review at places and events' doors: rejected (the failed-scan log), forced (let in
        offline, refused by the server), or conflict (two devices, one offline); with names, not ids."""
        return service.review_query(**args, place_ids=_place_ids())


@review_blp.route("/<int(max=2147483647):scan_id>/review")
class ReviewOne(MethodView):
    @roles_required(Role.admin)
    @review_blp.arguments(schemas.ScanReviewIn)
    @review_blp.response(200, schemas.CheckinScanOut)
    def post(self, data, scan_id):
        """Mark a scan reviewed, with what was found."""
        return service.review(actor=current_user, id=scan_id, note=data["note"])


# --- labels /api/meta serves ---------------------------------------------------------------------

# (imported here, not at the top, to keep this domain's own imports as they are)
from backend.checkins.enums import PURPOSE_LABELS  # noqa: E402
from backend.core.meta import register_labels  # noqa: E402

register_labels("visit_purposes", PURPOSE_LABELS)
