from __future__ import annotations

from io import BytesIO

from flask import current_app, request, send_file
from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.accounts.enums import Role
from backend.core.api import blueprint
from backend.core.auth import roles_required
from backend.core.meta import register_labels, register_values
from backend.core.pagination import AnnotatedSelect
from backend.places import poster, schemas, service
from backend.places.enums import KIND_LABELS, SERVICES

blp = blueprint("places", __name__, "/api/places", "场所：喵小创空间、创业街区、创业市场、创贷之家")
admin_blp = blueprint("places_admin", __name__, "/api/admin/places", "场所管理（管理员）：含已关闭的场所")


@blp.route("")
class Places(MethodView):
    @blp.arguments(schemas.PlaceQueryIn, location="query")
    @blp.paged(schemas.PlaceOut)
    def get(self, args):
        """Places anyone can list: filter by kind and district, search by name, nearest first."""
        lat, lng = args.get("lat"), args.get("lng")
        return AnnotatedSelect(service.list_query(**args),
                               lambda page: service.with_distances(page=page, lat=lat, lng=lng))

    @roles_required(Role.admin)
    @blp.arguments(schemas.PlaceIn)
    @blp.response(201, schemas.PlaceDetailOut)
    def post(self, data):
        """Register a place (admin)."""
        return service.with_staff_count(service.create(actor=current_user, data=data))


@blp.route("/<int(max=2147483647):place_id>")
class PlaceDetail(MethodView):
    @blp.response(200, schemas.PlaceDetailOut)
    def get(self, place_id):
        """One place."""
        return service.with_staff_count(service.get_or_raise(id=place_id))

    @roles_required(Role.admin)
    @blp.arguments(schemas.PlacePatchIn(partial=True))
    @blp.response(200, schemas.PlaceDetailOut)
    def patch(self, data, place_id):
        """Edit a place, or close it with is_active=false (admin)."""
        place = service.administered(actor=current_user, id=place_id)
        return service.with_staff_count(service.update(actor=current_user, place=place, data=data))


def _poster(place_id: int, *, size: str, fmt: str, mimetype: str, filename: str):
    """The poster, or 304 when the client holds this version (its ETag is known before any drawing)."""
    place = service.get_or_raise(id=place_id)
    etag = f"{poster.version(place, size=size)}-{fmt}"
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = send_file(BytesIO(poster.render(place, size=size, fmt=fmt)), mimetype=mimetype, etag=False)
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(etag)
    response.cache_control.max_age = 3600
    return response


@blp.route("/<int(max=2147483647):place_id>/poster.png")
class PlacePoster(MethodView):
    @blp.arguments(schemas.PosterQueryIn, location="query")
    @blp.file_response("image/png",
                       description="海报 PNG：screen 为手机屏幕尺寸（750×1334），print 为 A4 300 dpi（2480×3508）")
    def get(self, args, place_id):
        """Printable QR poster of a place (PNG): its signed place code as a URL WeChat's scanner opens,
        under PUBLIC_BASE_URL (or the address this request came to when that is not set)."""
        size = args["size"]
        return _poster(place_id, size=size, fmt="png", mimetype="image/png",
                       filename=f"poster-{place_id}-{size}.png")


@blp.route("/<int(max=2147483647):place_id>/poster.pdf")
class PlacePosterPdf(MethodView):
    @blp.file_response("application/pdf", description="海报 PDF：一页 A4（210×297 mm），300 dpi")
    def get(self, place_id):
        """Printable QR poster of a place as one A4 PDF page (the print-size poster)."""
        return _poster(place_id, size="print", fmt="pdf", mimetype="application/pdf",
                       filename=f"poster-{place_id}-a4.pdf")


# --- the administrators' console --------------------------------------------------------------

@admin_blp.route("")
class AdminPlaces(MethodView):
    @roles_required(Role.admin)
    @admin_blp.arguments(schemas.AdminPlaceQueryIn, location="query")
    @admin_blp.paged(schemas.PlaceDetailOut)
    def get(self, args):
        """Every place of the administrator's region, open and closed (state=open|closed), by kind and
        name; search, kind and district filters."""
        return AnnotatedSelect(service.admin_query(actor=current_user, **args), service.with_staff_counts)


@admin_blp.route("/<int(max=2147483647):place_id>")
class AdminPlace(MethodView):
    @roles_required(Role.admin)
    @admin_blp.response(200, schemas.PlaceDetailOut)
    def get(self, place_id):
        """One place of the administrator's region, open or closed."""
        return service.with_staff_count(service.administered(actor=current_user, id=place_id))


# --- labels /api/meta serves ---------------------------------------------------------------------

register_labels("place_kinds", KIND_LABELS)
register_values("place_services", SERVICES)

from backend.core import audit  # noqa: E402

audit.register_actions({"place.create": "新建场所", "place.update": "修改场所"})
