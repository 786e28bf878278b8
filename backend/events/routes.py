"""Event endpoints, thin: the public list and detail, signing up and my tickets, the organiser's
desk, and the door (organisers or provisioned scanner devices)."""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from io import BytesIO

from flask import current_app, g, request, send_file
from flask.views import MethodView
from flask_jwt_extended import current_user, verify_jwt_in_request

from backend.accounts.enums import Role
from backend.core.api import blueprint, download
from backend.core.auth import roles_required, viewer_optional
from backend.core.db import utcnow
from backend.core.errors import Forbidden
from backend.core.meta import register_labels
from backend.core.pagination import AnnotatedSelect
from backend.devices import service as devices
from backend.events import access, door, figures, registrations, schemas, service
from backend.events.enums import KIND_LABELS
from backend.core.localtime import LOCAL

events_blp = blueprint("events", __name__, "/api/events", "活动：列表、详情、报名、门口签到")
mine_blp = blueprint("my_registrations", __name__, "/api/me/registrations", "我的活动：报名、电子票、取消")
organiser_blp = blueprint("organiser", __name__, "/api/organiser", "活动组织者：发布活动、审核报名、签到统计、导出")

ENTREPRENEUR = Role.entrepreneur
ORGANISERS = (Role.organiser, Role.admin)
DOOR_SECURITY = [{"bearer": []}, {"deviceToken": []}]


def door_staff(fn):
    """The door is worked by a provisioned scanner (X-Device-Token) or a signed-in organiser. A revoked
    scanner may still hand in what it scanned offline: the check-in engine keeps those scans as forced."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        token = request.headers.get("X-Device-Token")
        if token:
            g.scanner, g.staff = devices.authenticate_scanner(token, allow_revoked=True), None
        else:
            verify_jwt_in_request()
            if not current_user.has_role(*ORGANISERS):
                raise Forbidden("只有活动组织者或扫码设备可以签到", code="forbidden")
            g.scanner, g.staff = None, current_user
        return fn(*args, **kwargs)

    return wrapper


def _detail(registration):
    """A registration as its holder sees it: the place in the waitlist and, holding a seat, the ticket."""
    return door.with_tickets(page=registrations.with_positions(page=[registration]))[0]


# --- public -------------------------------------------------------------------------------------

@events_blp.route("")
class Events(MethodView):
    @viewer_optional
    @events_blp.arguments(schemas.PublicQueryIn, location="query")
    @events_blp.paged(schemas.EventForMeOut)
    def get(self, args):
        """Published events, upcoming soonest first (``when=past`` for held ones); filter and search."""
        return AnnotatedSelect(service.public_query(**args),
                               lambda page: registrations.with_standing(viewer=g.viewer, page=page))


@events_blp.route("/<int(max=2147483647):event_id>")
class EventDetail(MethodView):
    @viewer_optional
    @events_blp.response(200, schemas.EventForMeOut)
    def get(self, event_id):
        """One event with seats left and, signed in, whether I may sign up and my registration."""
        return registrations.with_standing(viewer=g.viewer, page=[service.public(id=event_id)])[0]


@events_blp.route("/<int(max=2147483647):event_id>/cover/<any(card, full):size>")
class Cover(MethodView):
    @events_blp.file_response("image/jpeg")
    def get(self, event_id, size):
        """The cover at the size a page shows it (card 480×270, full 1200×675), JPEG."""
        upload = service.cover_upload(event=service.public(id=event_id))
        etag = f"{upload.sha256[:32]}-{size}"
        if request.if_none_match.contains(etag):  # the same cover: nothing to draw or send
            response = current_app.response_class(status=304)
        else:
            response = send_file(BytesIO(service.cover_bytes(upload=upload, size=size)), mimetype="image/jpeg",
                                 etag=False)
        response.set_etag(etag)
        response.cache_control.public, response.cache_control.max_age = True, 86400
        return response


@events_blp.route("/<int(max=2147483647):event_id>/registrations")
class SignUp(MethodView):
    @roles_required(ENTREPRENEUR)
    @events_blp.response(201, schemas.RegistrationDetailOut)
    @events_blp.alt_response(200, schema=schemas.RegistrationDetailOut, description="already signed up: the same registration")
    def post(self, event_id):
        """Sign up: a seat while there are seats, else the waitlist; approval events wait for the organiser."""
        registration, created = registrations.sign_up(user=current_user, event_id=event_id)
        return _detail(registration), 201 if created else 200


@events_blp.route("/checkins")
class Checkins(MethodView):
    @door_staff
    @events_blp.doc(security=DOOR_SECURITY)
    @events_blp.arguments(schemas.ScanBatchIn)
    @events_blp.response(200, schemas.ScanBatchOut)
    def post(self, data):
        """Door check-in: one scan online or a queue of them after being offline. Each item carries the
        scanner's nonce and scan time, plus ``sent_at`` (the device's clock now) so a device whose clock
        is off is corrected. Answers per item: ok, duplicate (already in: the earliest scan counts),
        forced (let in offline, refused now: kept with a reason) or rejected (in the failed-scan log),
        with ``conflict`` when another device met the same ticket offline. A repeated upload changes nothing."""
        return {"results": door.check_in(items=data["items"], event_id=data.get("event_id"),
                                         sent_at=data.get("sent_at"), staff=g.staff, device=g.scanner),
                "server_time": utcnow()}


# --- mine ---------------------------------------------------------------------------------------

@mine_blp.route("")
class MyRegistrations(MethodView):
    @roles_required(ENTREPRENEUR)
    @mine_blp.arguments(schemas.MineQueryIn, location="query")
    @mine_blp.paged(schemas.RegistrationOut)
    def get(self, args):
        """My registrations: upcoming soonest first, or past ones."""
        return AnnotatedSelect(registrations.mine_query(user=current_user, when=args["when"]),
                               lambda page: registrations.with_positions(page=page))


@mine_blp.route("/<int(max=2147483647):registration_id>")
class MyRegistration(MethodView):
    @roles_required(ENTREPRENEUR)
    @mine_blp.response(200, schemas.RegistrationDetailOut)
    def get(self, registration_id):
        """One registration with its signed ticket while it holds a seat (keep it: it shows offline)."""
        return _detail(registrations.mine(user=current_user, id=registration_id))


@mine_blp.route("/<int(max=2147483647):registration_id>/cancel")
class CancelMine(MethodView):
    @roles_required(ENTREPRENEUR)
    @mine_blp.response(200, schemas.RegistrationDetailOut)
    def post(self, registration_id):
        """Cancel my registration; a freed seat goes to the first on the waitlist."""
        return _detail(registrations.cancel_mine(user=current_user, id=registration_id))


# --- organiser ----------------------------------------------------------------------------------

@organiser_blp.route("/places")
class OrganiserPlaces(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.PlaceBriefOut(many=True))
    def get(self):
        """Places I may publish events at (spaces first)."""
        return service.organiser_places(user=current_user)


@organiser_blp.route("/events")
class OrganiserEvents(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.OrganiserQueryIn, location="query")
    @organiser_blp.paged(schemas.OrganiserEventOut)
    def get(self, args):
        """Events at my places, latest first."""
        return service.organiser_query(user=current_user, **args)

    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.EventIn)
    @organiser_blp.response(201, schemas.EventOut)
    def post(self, data):
        """Create an event as a draft (cover: upload to /api/uploads first, pass its id)."""
        return service.create(actor=current_user, data=data)


@organiser_blp.route("/events/<int(max=2147483647):event_id>")
class OrganiserEvent(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.EventOut)
    def get(self, event_id):
        return access.managed(user=current_user, id=event_id)

    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.EventPatchIn(partial=True))
    @organiser_blp.response(200, schemas.EventOut)
    def patch(self, data, event_id):
        """Edit; once published only title, description, cover, end, sign-up close, capacity and waitlist."""
        return service.update(actor=current_user, id=event_id, data=data)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/publish")
class Publish(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.EventOut)
    def post(self, event_id):
        return service.publish(actor=current_user, id=event_id)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/cancel")
class CancelEvent(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.CancelIn)
    @organiser_blp.response(200, schemas.CancelOut)
    def post(self, data, event_id):
        """Cancel the event: every registrant is told, every ticket revoked."""
        event, told = service.cancel(actor=current_user, id=event_id, reason=data["reason"])
        return {"event": event, "told": told}


@organiser_blp.route("/events/<int(max=2147483647):event_id>/registrations")
class Attendees(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.AttendeeQueryIn, location="query")
    @organiser_blp.paged(schemas.AttendeeOut)
    def get(self, args, event_id):
        """Registrations in arrival order, by state or check-in."""
        return registrations.attendees_query(actor=current_user, event_id=event_id, **args)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/registrations/<int(max=2147483647):registration_id>/approve")
class Approve(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.AttendeeOut)
    def post(self, event_id, registration_id):
        """Approve: a seat if one is free, else the waitlist."""
        return registrations.approve(actor=current_user, event_id=event_id, id=registration_id)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/registrations/<int(max=2147483647):registration_id>/reject")
class Reject(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.RejectIn)
    @organiser_blp.response(200, schemas.AttendeeOut)
    def post(self, data, event_id, registration_id):
        return registrations.reject(actor=current_user, event_id=event_id, id=registration_id, reason=data["reason"])


@organiser_blp.route("/events/<int(max=2147483647):event_id>/counts")
class Counts(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.CountsOut)
    def get(self, event_id):
        """Live numbers: checked in / registered, waitlist, pending."""
        return registrations.counts(event=access.managed(user=current_user, id=event_id))


@organiser_blp.route("/events/<int(max=2147483647):event_id>/scans")
class Scans(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.paged(schemas.DoorScanOut)
    def get(self, event_id):
        """Every scan at the door, newest first, with duplicates and forced entries."""
        return door.scans_query(actor=current_user, event_id=event_id)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/door-list")
class DoorList(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.response(200, schemas.DoorListOut)
    def get(self, event_id):
        """Registrations holding a seat and who is already in: the door page keeps it to work offline."""
        return door.door_list(actor=current_user, event_id=event_id)


@organiser_blp.route("/events/<int(max=2147483647):event_id>/export")
class Export(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.ExportIn, location="query")
    @organiser_blp.file_response()
    def get(self, args, event_id):
        """The attendance sheet (XLSX or CSV)."""
        return download(figures.attendance_export(actor=current_user, event_id=event_id, fmt=args["format"]))


@organiser_blp.route("/figures")
class Figures(MethodView):
    @roles_required(*ORGANISERS)
    @organiser_blp.arguments(schemas.FiguresIn, location="query")
    @organiser_blp.response(200, schemas.FiguresOut)
    def get(self, args):
        """Events held by month and type, sign-ups and attendance, per district or per place, for a year
        (administrators: every place; organisers: their own)."""
        year = args.pop("year", None) or datetime.now(LOCAL).year
        return figures.figures(user=current_user, year=year, **args)


# --- labels /api/meta serves ---------------------------------------------------------------------

register_labels("event_kinds", KIND_LABELS)

from backend.core import audit  # noqa: E402

audit.register_actions({"event.create": "新建活动", "event.update": "修改活动", "event.publish": "发布活动",
                        "event.cancel": "取消活动", "registration.approve": "通过报名", "registration.reject": "拒绝报名"})
