"""创业担保贷款: cases from the first question at a station to the loan's last repayment, the public
notice list, partner banks and stations, the rules as data and the banks' quarterly interest
statements with the subsidy."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.core import audit, payload, uploads
from backend.accounts.enums import Role
from backend.core.api import blueprint, download
from backend.core.auth import login_required, roles_required
from backend.core.meta import register_labels
from backend.loans import flow, rulebook, schemas, service, statements
from backend.loans.enums import BORROWER_LABELS, DOCUMENT_LABELS, IDENTITY_LABELS, STATE_LABELS, STATEMENT_LABELS

blp = blueprint("loans", __name__, "/api/loans", "创业担保贷款：咨询、预审、审核、公示、转介银行、放款、还款与贴息")
blp.before_request(payload.allow_upload_size)

ID = "<int(max=2147483647):case_id>"


def _shown(case):
    return service.detail(case, current_user)


@blp.route("/cases")
class Cases(MethodView):
    @login_required
    @blp.arguments(schemas.CaseQueryIn, location="query")
    @blp.paged(schemas.CaseRowOut)
    def get(self, args):
        """The cases you applied for or handle (station, bank, region); late steps first."""
        return service.list_query(user=current_user, **args)

    @login_required
    @blp.arguments(schemas.CaseIn)
    @blp.response(201, schemas.CaseOut)
    def post(self, data):
        """Apply online for a start-up loan at a 创贷之家 station of your choice."""
        return _shown(service.open_online(user=current_user, data=data))


@blp.route("/cases/from-visit")
class CaseFromVisit(MethodView):
    @login_required
    @blp.arguments(schemas.VisitCaseIn)
    @blp.response(201, schemas.CaseOut)
    @blp.alt_response(200, schema=schemas.CaseOut, description="The person's open case")
    def post(self, data):
        """A station's 专员 opens a case for a person scanned at the station (or gets their open one)."""
        case, created = service.open_from_visit(user=current_user, visit_id=data["visit_id"])
        return _shown(case), 201 if created else 200


@blp.route(f"/cases/{ID}")
class Case(MethodView):
    @login_required
    @blp.response(200, schemas.CaseOut)
    def get(self, case_id):
        """One case with its timeline, documents, the loan and what you may do now."""
        case, _ = service.get_case(user=current_user, id=case_id)
        return _shown(case)

    @login_required
    @blp.arguments(schemas.CasePatchIn(partial=True))
    @blp.response(200, schemas.CaseOut)
    def patch(self, data, case_id):
        """Change the application (before it is submitted; a changed one needs a new pre-check)."""
        return _shown(service.edit(user=current_user, id=case_id, data=data))


def _step(name: str, schema, doc: str, call):
    """One POST /cases/<id>/<name> endpoint for a step of the case."""

    def post(self, data, case_id):
        return _shown(call(case_id, data))

    post.__doc__ = doc
    view = type(f"Case_{name}", (MethodView,), {"post": login_required(
        blp.arguments(schema)(blp.response(200, schemas.CaseOut)(post)))})
    blp.route(f"/cases/{ID}/{name}", endpoint=f"case_{name.replace('-', '_')}")(view)


_step("precheck", schemas.RemarkIn, "Run the pre-check against the rule in force: each rule passed or failed, what to bring.",
      lambda i, d: service.precheck(user=current_user, id=i))
_step("request-documents", schemas.KindsIn, "Ask the applicant for documents (补正).",
      lambda i, d: service.request_documents(user=current_user, id=i, **d))
_step("submit", schemas.RemarkIn, "Submit for the 人社 review (pre-check passed, documents complete).",
      lambda i, d: service.submit(user=current_user, id=i))
_step("approve", schemas.RemarkIn, "Approve: the case goes on the public notice list.",
      lambda i, d: service.approve(user=current_user, id=i, **d))
_step("reject", schemas.ReasonIn, "Reject, with the reason the applicant reads.",
      lambda i, d: service.reject(user=current_user, id=i, **d))
_step("refer", schemas.ReferIn, "Refer to a partner bank once the notice period is over.",
      lambda i, d: service.refer(user=current_user, id=i, **d))
_step("withdraw", schemas.ReasonIn, "Withdraw the application (before the loan is paid out).",
      lambda i, d: service.withdraw(user=current_user, id=i, **d))
_step("diligence", schemas.DiligenceIn, "The bank takes the case: due diligence and the guarantee.",
      lambda i, d: service.diligence(user=current_user, id=i, **d))
_step("disburse", schemas.DisburseIn, "The bank pays the loan out: amount, rate, LPR, term, date.",
      lambda i, d: service.disburse(user=current_user, id=i, data=d))
_step("repayments", schemas.RepayIn, "Record a repayment (the loan is closed when nothing is left).",
      lambda i, d: service.repay(user=current_user, id=i, **d))
_step("overdue", schemas.OverdueIn, "Record that the loan is overdue (no subsidy while it is).",
      lambda i, d: service.mark_overdue(user=current_user, id=i, **d))
_step("cure", schemas.CureIn, "The overdue amount is repaid.",
      lambda i, d: service.cure(user=current_user, id=i, **d))
_step("extend", schemas.ExtendIn, "Extend the loan once, by at most a year (no subsidy for the extension).",
      lambda i, d: service.extend(user=current_user, id=i, **d))
_step("rate", schemas.RateIn, "Change the loan's rate from a day on.",
      lambda i, d: service.change_rate(user=current_user, id=i, **d))


@blp.route(f"/cases/{ID}/documents")
class CaseDocuments(MethodView):
    @login_required
    @blp.arguments(schemas.DocumentFileIn, location="files")
    @blp.response(201, schemas.CaseOut)
    def post(self, files, case_id):
        """Add a document (multipart: ``file``, and ``kind`` as a form field or in the query): JPG/PNG/WebP
        images or PDF, at most 10 MB, checked by content; only the case's handlers can open it."""
        kind = schemas.document_kind(request.form.get("kind") or request.args.get("kind"))
        storage = files["file"]
        return _shown(service.add_document(user=current_user, id=case_id, kind=kind,
                                           data=storage.read(uploads.MAX_BYTES + 1), filename=storage.filename or ""))


@blp.route(f"/cases/{ID}/documents/<int(max=2147483647):document_id>")
class CaseDocument(MethodView):
    @login_required
    @blp.file_response()
    def get(self, case_id, document_id):
        """A document of the case (its applicant and handlers only)."""
        return uploads.send(service.document(user=current_user, id=case_id, document_id=document_id))


@blp.route("/notice")
class Notice(MethodView):
    @blp.paged(schemas.NoticeOut)
    def get(self):
        """The public notice list (公示名单): applications approved by the 人社 office, names masked."""
        return service.notice_query()


@blp.route("/banks")
class Banks(MethodView):
    @login_required
    @blp.paged(schemas.BankOut)
    def get(self):
        """The partner banks and their branches."""
        return service.banks_query()


@blp.route("/stations")
class Stations(MethodView):
    @blp.paged(schemas.StationOut)
    def get(self):
        """The open 创贷之家 stations where a loan can be applied for."""
        return service.stations_query()


@blp.route("/statements")
class Statements(MethodView):
    @login_required
    @blp.arguments(schemas.LoanStatementQueryIn, location="query")
    @blp.paged(schemas.LoanStatementOut)
    def get(self, args):
        """Quarterly interest statements: a bank officer's bank's, an administrator's region's."""
        return statements.list_query(user=current_user, **args)

    @roles_required(Role.bank_staff)
    @blp.arguments(schemas.LoanStatementIn)
    @blp.response(201, schemas.LoanStatementDetailOut)
    def post(self, data):
        """Hand in a finished quarter's interest per loan; the subsidy is computed per loan by the rule in force."""
        return statements.submit(user=current_user, **data)


SID = "<int(max=2147483647):statement_id>"


@blp.route(f"/statements/{SID}")
class Statement(MethodView):
    @login_required
    @blp.response(200, schemas.LoanStatementDetailOut)
    def get(self, statement_id):
        """One statement with each loan's interest and subsidy."""
        return statements.get(user=current_user, id=statement_id)


@blp.route(f"/statements/{SID}.xlsx")
class StatementWorkbook(MethodView):
    @login_required
    @blp.file_response("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    def get(self, statement_id):
        """The statement as an XLSX workbook (amounts in 元)."""
        return download(statements.export(statements.get(user=current_user, id=statement_id)))


@blp.route(f"/statements/{SID}/approve")
class StatementApprove(MethodView):
    @roles_required(Role.admin)
    @blp.response(200, schemas.LoanStatementDetailOut)
    def post(self, statement_id):
        """Approve the subsidy of a submitted statement (administrators)."""
        return statements.decide(user=current_user, id=statement_id, action="approve")


@blp.route(f"/statements/{SID}/pay")
class StatementPay(MethodView):
    @roles_required(Role.admin)
    @blp.response(200, schemas.LoanStatementDetailOut)
    def post(self, statement_id):
        """Mark an approved statement's subsidy as paid (administrators)."""
        return statements.decide(user=current_user, id=statement_id, action="pay")


@blp.route("/rules")
class Rules(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.LoanRuleQueryIn, location="query")
    @blp.paged(schemas.LoanRuleOut)
    def get(self, args):
        """The rules as data: the rows that apply in your region (its own and those above it)."""
        return rulebook.list_query(user=current_user, **args)

    @roles_required(Role.admin)
    @blp.arguments(schemas.LoanRuleIn)
    @blp.response(201, schemas.LoanRuleOut)
    def post(self, data):
        """Add a rule row (a region's own rule, or a new rule from a date)."""
        return rulebook.create(actor=current_user, data=data)


@blp.route("/rules/<int(max=2147483647):rule_id>")
class Rule(MethodView):
    @roles_required(Role.admin)
    @blp.arguments(schemas.LoanRulePatchIn(partial=True))
    @blp.response(200, schemas.LoanRuleOut)
    def patch(self, data, rule_id):
        """Change a rule row (audited); cases already pre-checked keep the row they were checked by."""
        return rulebook.update(actor=current_user, rule=rulebook.get_or_raise(user=current_user, id=rule_id),
                               data=data)


audit.register_actions({"loan_rule.create": "贷款规则：新增", "loan_rule.update": "贷款规则：修改"})
audit.register_actions({"loan_statement.approve": "贴息清单：审核通过", "loan_statement.pay": "贴息清单：已拨付"})
audit.register_actions({f"loan.{name}": f"贷款案件：{move.label}" for name, move in flow.MOVES.items()})
register_labels("loan_states", STATE_LABELS)
register_labels("loan_borrower_types", BORROWER_LABELS)
register_labels("loan_document_kinds", DOCUMENT_LABELS)
register_labels("loan_identity_categories", IDENTITY_LABELS)
register_labels("loan_statement_states", STATEMENT_LABELS)
