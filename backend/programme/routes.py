"""The programme dashboard and its targets (administrators): /api/admin/dashboard (JSON and XLSX) and
/api/admin/targets."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.accounts.enums import Role
from backend.core import targets
from backend.core.api import blueprint, download
from backend.core.auth import roles_required
from backend.core.db import utcnow
from backend.core.localtime import LOCAL
from backend.core.meta import register_labels
from backend.programme import access, figures, report, schemas, service
from backend.programme.enums import MEASURE_LABELS

blp = blueprint("programme", __name__, "/api/admin", "项目看板：年度目标、完成情况、序时进度")


def _report(args) -> dict:
    now = utcnow()
    region = access.region_for(current_user, args.get("region"))
    return figures.dashboard(year=args.get("year") or now.astimezone(LOCAL).year, region=region, now=now)


@blp.route("/dashboard")
class Dashboard(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.DashboardQueryIn, location="query")
    @blp.response(200, schemas.DashboardOut)
    def get(self, args):
        """The year's figures for a region beside its targets and the 序时进度 (default: this year, your region)."""
        return _report(args)


@blp.route("/dashboard.xlsx")
class DashboardWorkbook(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.DashboardQueryIn, location="query")
    @blp.file_response("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    def get(self, args):
        """The same report as an XLSX workbook: an overview and one sheet per section."""
        return download(report.workbook(_report(args)))


@blp.route("/targets")
class Targets(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.TargetQueryIn, location="query")
    @blp.paged(schemas.TargetOut)
    def get(self, args):
        """The plans' targets of the regions you answer for, newest year first."""
        return service.list_query(user=current_user, **args)

    @roles_required(Role.admin)
    @blp.arguments(schemas.TargetIn)
    @blp.response(201, schemas.TargetOut)
    def post(self, data):
        """Add a target (one per year, region and measure)."""
        return service.create(actor=current_user, data=data)


@blp.route("/targets/<int(max=2147483647):target_id>")
class Target(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.TargetPatchIn)
    @blp.response(200, schemas.TargetOut)
    def patch(self, data, target_id):
        """Change a target's value, its plan or its note."""
        return service.update(actor=current_user, target=service.get_or_raise(user=current_user, id=target_id),
                              data=data)

    @roles_required(Role.admin)
    @blp.response(204)
    def delete(self, target_id):
        """Remove a target."""
        service.delete(actor=current_user, target=service.get_or_raise(user=current_user, id=target_id))


register_labels("programme_measures", MEASURE_LABELS)
targets.register(service.target_value)
