from __future__ import annotations

import hashlib
from io import BytesIO

from flask import send_file
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
        place = service.get_or_raise(id=place_id, include_inactive=True)
        return service.with_staff_count(service.update(actor=current_user, place=place, data=data))


@blp.route("/<int(max=2147483647):place_id>/poster.png")
class PlacePoster(MethodView):
    @blp.arguments(schemas.PosterQueryIn, location="query")
    @blp.file_response("image/png",
                       description="海报 PNG：screen 为手机屏幕尺寸（750×1334），print 为 A4 300 dpi（2480×3508）")
    def get(self, args, place_id):
        """Printable QR poster of a place (PNG): its signed place code as a URL WeChat's scanner opens."""
        size = args["size"]
        png = poster.render(service.get_or_raise(id=place_id), size=size)
        response = send_file(BytesIO(png), mimetype="image/png", max_age=3600,
                             etag=hashlib.sha256(png).hexdigest()[:32])
        response.headers["Content-Disposition"] = f'inline; filename="poster-{place_id}-{size}.png"'
        return response


# --- labels /api/meta serves ---------------------------------------------------------------------

register_labels("place_kinds", KIND_LABELS)
register_values("place_services", SERVICES)

from backend.core import audit  # noqa: E402

audit.register_actions({"place.create": "新建场所", "place.update": "修改场所"})
