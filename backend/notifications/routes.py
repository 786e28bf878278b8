from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.core.api import blueprint
from backend.core.auth import login_required
from backend.notifications import schemas, service

blp = blueprint("notifications", __name__, "/api/me/notifications", "我的消息：提醒与审核结果")


@blp.route("")
class Notifications(MethodView):
    @login_required
    @blp.paged(schemas.NotificationOut)
    def get(self):
        """My notifications, newest first."""
        return service.list_query(user=current_user)


@blp.route("/unread")
class Unread(MethodView):
    @login_required
    @blp.response(200, schemas.UnreadOut)
    def get(self):
        """How many of my notifications are unread (for the badge)."""
        return {"unread": service.unread_count(user=current_user)}


@blp.route("/read")
class Read(MethodView):
    @login_required
    @blp.arguments(schemas.ReadIn)
    @blp.response(200, schemas.ReadOut)
    def post(self, data):
        """Mark some (ids) or all of my notifications as read."""
        marked = service.mark_read(user=current_user, ids=data.get("ids"))
        return {"marked": marked, "unread": service.unread_count(user=current_user)}
