"""Voucher endpoints, thin: entrepreneurs (centre, claim, apply, wallet, receipts), the public
provider catalogue, provider staff (scan, redeem, reverse, statements) and administrators."""
from __future__ import annotations


from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user

import sqlalchemy as sa

from backend.accounts import scope
from backend.accounts.enums import Role
from backend.core.api import blueprint, download
from backend.core.auth import login_required, roles_required, viewer_optional
from backend.core.pagination import AnnotatedSelect
from backend.extensions import db
from backend.vouchers import batches, claims, providers, redemption, schemas, settlement
from backend.vouchers.models import Provider, SettlementStatement, VoucherApplication, VoucherBatch

centre_blp = blueprint("voucher_centre", __name__, "/api/voucher-batches", "创业券：券中心、领取、申请")
wallet_blp = blueprint("wallet", __name__, "/api/me", "我的创业券：券包、明细、消费凭证、申请")
catalogue_blp = blueprint("providers", __name__, "/api/providers", "服务机构：登记、公示、目录、异议")
desk_blp = blueprint("provider_desk", __name__, "/api/provider", "服务机构工作台：扫码核销、撤销、结算")
admin_blp = blueprint("voucher_admin", __name__, "/api/admin", "创业券管理：批次、申请审核、机构审核、结算")

ENTREPRENEUR = Role.entrepreneur
STAFF = Role.provider_staff
ADMIN = Role.admin


# --- voucher centre -----------------------------------------------------------------------------

@centre_blp.route("")
class Centre(MethodView):
    @viewer_optional
    @centre_blp.arguments(schemas.PublicBatchQueryIn, location="query")
    @centre_blp.paged(schemas.BatchForMeOut)
    def get(self, args):
        """Batches in the voucher centre, live first; signed in, each says whether I can claim and why not."""
        return AnnotatedSelect(batches.public_query(**args),
                               lambda page: claims.with_standing(viewer=g.viewer, page=page))


@centre_blp.route("/<int(max=2147483647):batch_id>")
class CentreBatch(MethodView):
    @viewer_optional
    @centre_blp.response(200, schemas.BatchForMeOut)
    def get(self, batch_id):
        """One batch, with my standing."""
        return claims.with_standing(viewer=g.viewer, page=[batches.get_public(id=batch_id)])[0]


@centre_blp.route("/<int(max=2147483647):batch_id>/claim")
class Claim(MethodView):
    @roles_required(ENTREPRENEUR)
    @centre_blp.arguments(schemas.ClaimIn())  # an instance: webargs would build one per request from the class
    @centre_blp.response(201, schemas.VoucherOut)
    @centre_blp.alt_response(200, schema=schemas.VoucherOut, description="the same idempotency key again")
    def post(self, data, batch_id):
        """Claim a voucher (first come, first served). Send an idempotency key so a retry acts once."""
        voucher, created = claims.claim(user=current_user, batch_id=batch_id, key=data.get("idempotency_key"))
        return claims.with_state(page=[voucher])[0], 201 if created else 200


@centre_blp.route("/<int(max=2147483647):batch_id>/applications")
class Apply(MethodView):
    @roles_required(ENTREPRENEUR)
    @centre_blp.arguments(schemas.ApplicationIn)
    @centre_blp.response(201, schemas.ApplicationOut)
    def post(self, data, batch_id):
        """Apply for a voucher of an approval batch, with materials uploaded first to /api/uploads."""
        return claims.apply(user=current_user, batch_id=batch_id, **data)


# --- my wallet ----------------------------------------------------------------------------------

@wallet_blp.route("/vouchers")
class Wallet(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.arguments(schemas.WalletQueryIn, location="query")
    @wallet_blp.paged(schemas.VoucherOut)
    def get(self, args):
        """My vouchers: usable first, soonest to expire first."""
        return AnnotatedSelect(claims.wallet_query(user=current_user, usable_only=args["usable"]),
                               lambda page: claims.with_state(page=page))


@wallet_blp.route("/vouchers/<int(max=2147483647):voucher_id>")
class WalletVoucher(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.response(200, schemas.VoucherDetailOut)
    def get(self, voucher_id):
        """One of my vouchers with every ledger entry."""
        from backend.vouchers import ledger

        voucher = claims.my_voucher(user=current_user, id=voucher_id)
        voucher.history = ledger.history(voucher=voucher)
        return claims.with_state(page=[voucher])[0]


@wallet_blp.route("/receipts")
class Receipts(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.arguments(schemas.ReceiptQueryIn, location="query")
    @wallet_blp.paged(schemas.RedemptionOut)
    def get(self, args):
        """My payment receipts (核销凭证), newest first; ?since= for the ones after a moment."""
        return AnnotatedSelect(redemption.receipts_query(user=current_user, since=args.get("since")),
                               lambda page: redemption.with_reversible(page=page))


@wallet_blp.route("/pay-code")
class PayCodeStatus(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.response(200, schemas.PayCodeStatusOut)
    def get(self):
        """The latest scan of my 付款码: a pay code is single-use, so the phone shows a new one once scanned."""
        return {"last_scan": redemption.last_scan(user=current_user)}


@wallet_blp.route("/voucher-applications")
class MyApplications(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.paged(schemas.ApplicationOut)
    def get(self):
        """My voucher applications and their decisions."""
        return claims.my_applications(user=current_user)


@wallet_blp.route("/voucher-applications/<int(max=2147483647):application_id>/withdraw")
class Withdraw(MethodView):
    @roles_required(ENTREPRENEUR)
    @wallet_blp.response(200, schemas.ApplicationOut)
    def post(self, application_id):
        """Withdraw a pending application."""
        return claims.withdraw(user=current_user, id=application_id)


# --- providers: public catalogue, notice, registration -------------------------------------------------

@catalogue_blp.route("")
class Catalogue(MethodView):
    @catalogue_blp.arguments(schemas.ProviderQueryIn, location="query")
    @catalogue_blp.paged(schemas.ProviderOut)
    def get(self, args):
        """The public catalogue (status=listed) or the public notice list (status=notice)."""
        return providers.public_query(**args)

    @login_required
    @catalogue_blp.arguments(schemas.ProviderIn)
    @catalogue_blp.response(201, schemas.ProviderPrivateOut)
    def post(self, data):
        """Register my organisation as a provider; an administrator reviews it."""
        return providers.with_objections(page=[providers.register(user=current_user, data=data)])[0]


@catalogue_blp.route("/<int(max=2147483647):provider_id>")
class CatalogueEntry(MethodView):
    @catalogue_blp.response(200, schemas.ProviderOut)
    def get(self, provider_id):
        """A provider on notice or listed."""
        return providers.get_public(id=provider_id)


@catalogue_blp.route("/<int(max=2147483647):provider_id>/objections")
class Objections(MethodView):
    @login_required
    @catalogue_blp.arguments(schemas.ObjectionIn)
    @catalogue_blp.response(201, schemas.ObjectionOut)
    def post(self, data, provider_id):
        """Raise an objection against a provider during its public notice."""
        return providers.object_to(user=current_user, provider=providers.get_public(id=provider_id), text=data["text"])


# --- the provider's desk -----------------------------------------------------------------------------

@desk_blp.route("")
class MyProvider(MethodView):
    @login_required
    @desk_blp.response(200, schemas.ProviderPrivateOut)
    def get(self):
        """My organisation and its review status (409 no_provider before I register one)."""
        return providers.with_objections(page=[providers.provider_of(current_user)])[0]


@desk_blp.route("/scan")
class Scan(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.ScanIn)
    @desk_blp.response(200, schemas.ScanOut)
    def post(self, data):
        """Scan a holder's pay code: who it is and which vouchers can pay here (and why not)."""
        return redemption.scan(staff=current_user, code=data["code"])


@desk_blp.route("/quote")
class Quote(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.QuoteIn)
    @desk_blp.response(200, schemas.QuoteOut)
    def post(self, data):
        """What a bill would deduct from a voucher, explained; writes nothing."""
        return redemption.quote(staff=current_user, **data)


@desk_blp.route("/redemptions")
class Redemptions(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.RedemptionQueryIn, location="query")
    @desk_blp.paged(schemas.RedemptionOut)
    def get(self, args):
        """My organisation's redemptions (filter by day or month), newest first."""
        return AnnotatedSelect(redemption.provider_query(provider=providers.provider_of(current_user), **args),
                               lambda page: redemption.with_reversible(page=page))

    @roles_required(STAFF)
    @desk_blp.arguments(schemas.RedeemIn())  # an instance: webargs would build one per request from the class
    @desk_blp.response(201, schemas.RedemptionOut)
    @desk_blp.alt_response(200, schema=schemas.RedemptionOut, description="the same idempotency key again: the first receipt")
    def post(self, data):
        """Confirm a redemption. The idempotency key makes a retry return the same receipt, never charge twice."""
        result, created = redemption.redeem(staff=current_user, **data)
        result.replayed = not created
        return redemption.with_reversible(page=[result])[0], 201 if created else 200


@desk_blp.route("/redemptions/totals")
class RedemptionTotals(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.RedemptionQueryIn, location="query")
    @desk_blp.response(200, schemas.RedemptionTotalsOut)
    def get(self, args):
        """Count and sums of my organisation's redemptions (by day or month)."""
        return redemption.totals(redemption.provider_query(provider=providers.provider_of(current_user), **args))


@desk_blp.route("/redemptions/<int(max=2147483647):redemption_id>/reverse")
class Reverse(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.ReverseIn)
    @desk_blp.response(200, schemas.RedemptionOut)
    def post(self, data, redemption_id):
        """Reverse a redemption within the window; the amount returns to the voucher. Twice acts once."""
        reversed_ = redemption.reverse(staff=current_user, redemption_id=redemption_id, reason=data["reason"])
        return redemption.with_reversible(page=[reversed_])[0]


@desk_blp.route("/statements")
class Statements(MethodView):
    @roles_required(STAFF)
    @desk_blp.paged(schemas.StatementOut)
    def get(self):
        """My organisation's settlement statements."""
        return settlement.provider_query(provider=providers.provider_of(current_user))

    @roles_required(STAFF)
    @desk_blp.arguments(schemas.StatementIn)
    @desk_blp.response(201, schemas.StatementOut)
    def post(self, data):
        """Submit the statement of a finished month (redemptions − reversals) for reimbursement."""
        return settlement.submit(staff=current_user, month=data["month"])


@desk_blp.route("/statements/<int(max=2147483647):statement_id>/export")
class StatementExport(MethodView):
    @roles_required(STAFF)
    @desk_blp.arguments(schemas.ExportQueryIn, location="query")
    @desk_blp.file_response()
    def get(self, args, statement_id):
        """A statement's lines as XLSX or CSV."""
        statement = settlement.get_or_raise(id=statement_id)
        providers.ensure_member(current_user, statement.provider_id)
        return download(settlement.export(statement=statement, fmt=args["format"]))


# --- administrators ---------------------------------------------------------------------------------
# A city or district administrator sees the batches its region funds and the providers registered
# in it (their statements with them); anything else answers 404 as if it did not exist.

def _batch(batch_id: int) -> VoucherBatch:
    batch = batches.get_or_raise(id=batch_id)
    scope.check(batch.district, message="创业券批次不存在", error="batch_not_found")
    return batch


def _provider(provider_id: int) -> Provider:
    provider = providers.get_or_raise(id=provider_id)
    scope.check(provider.district, message="服务机构不存在", error="provider_not_found")
    return provider


def _statement(statement_id: int) -> SettlementStatement:
    statement = settlement.get_or_raise(id=statement_id)
    scope.check(db.session.get(Provider, statement.provider_id).district, message="结算单不存在",
                error="statement_not_found")
    return statement


def _in_scope(query: sa.Select, column, owner, owner_district) -> sa.Select:
    """``query`` kept to rows whose ``column`` points at an ``owner`` in the administrator's region."""
    allowed = scope.districts()
    if allowed is None:
        return query
    return query.where(column.in_(sa.select(owner.id).where(owner_district.in_(sorted(allowed)))))


@admin_blp.route("/voucher-batches")
class AdminBatches(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.BatchQueryIn, location="query")
    @admin_blp.paged(schemas.BatchOut)
    def get(self, args):
        """Every batch of the administrator's region, newest first."""
        return scope.limit(batches.admin_query(**args), VoucherBatch.district)

    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.BatchIn)
    @admin_blp.response(201, schemas.BatchOut)
    def post(self, data):
        """Fund a new batch (starts as a draft) from the administrator's region."""
        scope.check_region(data["district"])
        return batches.create(actor=current_user, data=data)


@admin_blp.route("/voucher-batches/<int(max=2147483647):batch_id>")
class AdminBatch(MethodView):
    @roles_required(ADMIN)
    @admin_blp.response(200, schemas.BatchFiguresOut)
    def get(self, batch_id):
        """A batch with where its money is."""
        return batches.figures(batch=_batch(batch_id))

    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.BatchPatchIn(partial=True))
    @admin_blp.response(200, schemas.BatchOut)
    def patch(self, data, batch_id):
        """Edit a draft (a live batch: name, description, claim end, daily cap only)."""
        batch = _batch(batch_id)
        if "district" in data:
            scope.check_region(data["district"])
        return batches.update(actor=current_user, batch=batch, data=data)


@admin_blp.route("/voucher-batches/<int(max=2147483647):batch_id>/state")
class AdminBatchState(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.BatchStateIn)
    @admin_blp.response(200, schemas.BatchOut)
    def post(self, data, batch_id):
        """Publish, pause, resume or end a batch."""
        return batches.set_state(actor=current_user, batch=_batch(batch_id), state=data["state"])


@admin_blp.route("/voucher-applications")
class AdminApplications(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.ApplicationQueryIn, location="query")
    @admin_blp.paged(schemas.AdminApplicationOut)
    def get(self, args):
        """Applications to review, oldest first."""
        return _in_scope(claims.admin_applications(**args), VoucherApplication.batch_id, VoucherBatch,
                         VoucherBatch.district)


@admin_blp.route("/voucher-applications/<int(max=2147483647):application_id>/decision")
class AdminApplicationDecision(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.DecisionIn)
    @admin_blp.response(200, schemas.AdminApplicationOut)
    def post(self, data, application_id):
        """Approve (issues the voucher) or reject with a reason."""
        application = db.session.get(VoucherApplication, application_id)
        if application is not None:
            scope.check(db.session.get(VoucherBatch, application.batch_id).district, message="申请不存在",
                        error="application_not_found")
        return claims.decide(actor=current_user, id=application_id, **data)


@admin_blp.route("/providers")
class AdminProviders(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.AdminProviderQueryIn, location="query")
    @admin_blp.paged(schemas.ProviderPrivateOut)
    def get(self, args):
        """Providers by status (pending, notice, listed, rejected, suspended, blacklisted)."""
        return AnnotatedSelect(scope.limit(providers.admin_query(**args), Provider.district),
                               lambda page: providers.with_objections(page=page))


@admin_blp.route("/providers/<int(max=2147483647):provider_id>/decision")
class AdminProviderDecision(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.ProviderDecisionIn)
    @admin_blp.response(200, schemas.ProviderPrivateOut)
    def post(self, data, provider_id):
        """Approve (public notice, then listed), reject, suspend, blacklist or restore, with a reason."""
        provider = providers.decide(actor=current_user, provider=_provider(provider_id), **data)
        return providers.with_objections(page=[provider])[0]


@admin_blp.route("/providers/<int(max=2147483647):provider_id>/objections")
class AdminObjections(MethodView):
    @roles_required(ADMIN)
    @admin_blp.response(200, schemas.ObjectionOut(many=True))
    def get(self, provider_id):
        """Objections raised during a provider's notice."""
        return providers.objections(provider=_provider(provider_id))


@admin_blp.route("/statements")
class AdminStatements(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.StatementQueryIn, location="query")
    @admin_blp.paged(schemas.StatementOut)
    def get(self, args):
        """Settlement statements by state."""
        return _in_scope(settlement.admin_query(**args), SettlementStatement.provider_id, Provider, Provider.district)


@admin_blp.route("/statements/<int(max=2147483647):statement_id>/decision")
class AdminStatementDecision(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.StatementDecisionIn)
    @admin_blp.response(200, schemas.StatementOut)
    def post(self, data, statement_id):
        """Approve, reject (with a reason; its redemptions are released) or mark paid."""
        return settlement.decide(actor=current_user, statement=_statement(statement_id), **data)


@admin_blp.route("/statements/<int(max=2147483647):statement_id>/export")
class AdminStatementExport(MethodView):
    @roles_required(ADMIN)
    @admin_blp.arguments(schemas.ExportQueryIn, location="query")
    @admin_blp.file_response()
    def get(self, args, statement_id):
        """A statement's lines as XLSX or CSV."""
        return download(settlement.export(statement=_statement(statement_id), fmt=args["format"]))


from backend.core import audit  # noqa: E402

audit.register_actions({
    "voucher_batch.create": "新建创业券批次", "voucher_batch.update": "修改创业券批次",
    "voucher_batch.state": "变更创业券批次状态", "voucher_application.decide": "审核创业券申请",
    "provider.approve": "服务机构审核通过", "provider.reject": "服务机构审核不通过", "provider.suspend": "暂停服务机构",
    "provider.blacklist": "服务机构列入黑名单", "provider.restore": "恢复服务机构",
    "statement.approve": "结算单审核通过", "statement.reject": "退回结算单", "statement.pay": "结算单已兑付",
})
