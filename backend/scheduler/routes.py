"""The 定时任务 admin screen's API: each job's state, the runs, run a job now."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.accounts import scope
from backend.core import audit
from backend.core.api import blueprint
from backend.core.auth import roles_required
from backend.core.errors import Forbidden
from backend.core.meta import register_labels
from backend.core.pagination import AnnotatedSelect
from backend.scheduler import jobs, schemas, service
from backend.scheduler.enums import Outcome

blp = blueprint("scheduler", __name__, "/api/admin", "定时任务：到期处理、提醒与清理的运行记录")

register_labels("jobs", {job.name: job.label for job in jobs.JOBS.values()})
register_labels("job_outcomes", Outcome.labels())
audit.register_actions({"job.run": "立即运行定时任务"})


@blp.route("/jobs")
class Jobs(MethodView):
    @roles_required("admin")
    @blp.response(200, schemas.JobsOut)
    def get(self):
        """Every scheduled job: when it runs, its next run, its last run (outcome, counts, error) and its
        failed attempts in the last 7 days."""
        return {"jobs": service.overview()}


@blp.route("/job-runs")
class JobRuns(MethodView):
    @roles_required("admin")
    @blp.arguments(schemas.RunsQueryIn, location="query")
    @blp.paged(schemas.JobRunOut)
    def get(self, args):
        """Runs of the scheduled jobs, newest first; filter by job and outcome."""
        return AnnotatedSelect(service.runs_query(**args), service.annotate)


@blp.route("/jobs/<job>/run")
class RunJob(MethodView):
    @roles_required("admin")
    @blp.response(200, schemas.JobRunOut)
    def post(self, job):
        """Run a job now (a province administrator; audited). Answers with the run: ok with its counts,
        failed with the error, or skipped when a scheduler process is running it at this moment."""
        if scope.districts() is not None:
            raise Forbidden("定时任务作用于全省，只有省级管理员可以立即运行", code="province_admin_only")
        return service.run_now(actor=current_user, name=job)
