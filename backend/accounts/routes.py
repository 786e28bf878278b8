from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt, jwt_required

from backend.accounts import schemas, scope, service
from backend.accounts.enums import ROLE_LABELS, SUBJECT_LABELS, Role, WechatApp
from backend.accounts.models import RoleGrant, User
from backend.core.api import blueprint
from backend.core.auth import BEARER, login_required, per_ip, roles_required
from backend.core.meta import register_labels
from backend.core.pii import blind_index
from backend.extensions import db, limiter

auth_blp = blueprint("auth", __name__, "/api/auth", "登录、验证码、令牌")
me_blp = blueprint("me", __name__, "/api/me", "我的账号与资料")
users_blp = blueprint("users", __name__, "/api/admin/users", "用户与角色管理（管理员）")


def _phone_key() -> str:
    body = request.get_json(silent=True)
    phone = body.get("phone") if isinstance(body, dict) else None
    return f"phone:{phone if isinstance(phone, str) else ''}"


@auth_blp.route("/sms-code")
class SmsCode(MethodView):
    decorators = [
        per_ip("10/minute;60/hour"),
        limiter.limit("5/hour;10/day", key_func=_phone_key),
    ]

    @auth_blp.arguments(schemas.SmsCodeIn)
    @auth_blp.response(200, schemas.SmsCodeOut)
    def post(self, data):
        """Send a 6-digit login code to a phone (valid 5 minutes)."""
        service.request_login_code(phone=data["phone"])
        cfg = current_app.config
        return {"sent": True, "expires_in": cfg["SMS_CODE_TTL_SECONDS"], "resend_after": cfg["SMS_RESEND_SECONDS"]}


@auth_blp.route("/login/phone")
class PhoneLogin(MethodView):
    decorators = [per_ip("30/minute")]

    @auth_blp.arguments(schemas.PhoneLoginIn)
    @auth_blp.response(200, schemas.TokensOut)
    def post(self, data):
        """Log in (or sign up as an entrepreneur) with a phone and its one-time code."""
        user = service.login_with_code(phone=data["phone"], code=data["code"])
        return service.issue_tokens(user=user)


@auth_blp.route("/login/wechat-mini")
class WechatMiniLogin(MethodView):
    decorators = [per_ip("30/minute")]

    @auth_blp.arguments(schemas.WechatLoginIn)
    @auth_blp.response(200, schemas.TokensOut)
    def post(self, data):
        """Log in from the WeChat mini-program with the code from wx.login (code2session)."""
        user = service.login_with_wechat(app=WechatApp.mini, code=data["code"])
        return service.issue_tokens(user=user)


@auth_blp.route("/login/wechat-oauth")
class WechatOAuthLogin(MethodView):
    decorators = [per_ip("30/minute")]

    @auth_blp.arguments(schemas.WechatLoginIn)
    @auth_blp.response(200, schemas.TokensOut)
    def post(self, data):
        """Log in inside WeChat's browser with the official-account web OAuth code."""
        user = service.login_with_wechat(app=WechatApp.oa, code=data["code"])
        return service.issue_tokens(user=user)


@auth_blp.route("/demo-accounts")
class DemoAccounts(MethodView):
    @auth_blp.response(200, schemas.DemoAccountOut(many=True))
    def get(self):
        """Demo logins, one per role (development only)."""
        return service.demo_accounts()


@auth_blp.route("/demo-login")
class DemoLogin(MethodView):
    @auth_blp.arguments(schemas.DemoLoginIn)
    @auth_blp.response(200, schemas.TokensOut)
    def post(self, data):
        """One-tap login as the demo user of a role (development only)."""
        return service.issue_tokens(user=service.demo_login(role=data["role"]))


@auth_blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @auth_blp.doc(security=BEARER)
    @auth_blp.response(200, schemas.AccessTokenOut)
    def post(self):
        """Exchange the refresh token (as the Bearer token) for a new access token."""
        from flask_jwt_extended import create_access_token

        return {"access_token": create_access_token(identity=str(current_user.id))}


@auth_blp.route("/logout")
class Logout(MethodView):
    @login_required
    @auth_blp.arguments(schemas.LogoutIn)
    @auth_blp.response(204)
    def post(self, data):
        """Revoke the access token used and, when given, the refresh token."""
        service.logout(user=current_user, access_claims=get_jwt(), refresh_token=data.get("refresh_token"))


@me_blp.route("")
class Me(MethodView):
    @login_required
    @me_blp.response(200, schemas.MeOut)
    def get(self):
        """My account, roles and (masked) profile."""
        return current_user

    @login_required
    @me_blp.arguments(schemas.MeIn)
    @me_blp.response(200, schemas.MeOut)
    def patch(self, data):
        """Edit my name and entrepreneur profile."""
        return service.update_me(user=current_user, data=data)


@users_blp.route("")
class Users(MethodView):
    @roles_required(Role.admin)
    @users_blp.arguments(schemas.UserQueryIn, location="query")
    @users_blp.paged(schemas.UserAdminOut)
    def get(self, args):
        """Users, newest first; find one by exact phone, or filter by role."""
        query = scope.limit_people(sa.select(User).order_by(User.id.desc()))
        if "phone" in args:
            query = query.where(User.phone_hash == blind_index(args["phone"]))
        if "role" in args:
            query = query.where(User.id.in_(sa.select(RoleGrant.user_id).where(RoleGrant.role == args["role"])))
        return query


@users_blp.route("/<int(max=2147483647):user_id>/roles")
class UserRoles(MethodView):
    @roles_required(Role.admin)
    @users_blp.arguments(schemas.GrantIn)
    @users_blp.response(200, schemas.UserAdminOut)
    def post(self, data, user_id):
        """Grant a role (staff roles may be bound to a place)."""
        user = service.get_or_raise(id=user_id)
        scope.check_person(user)
        scope.check_binding(role=data["role"].value, place_id=data["place_id"], provider_id=data["provider_id"],
                            region_code=data["region_code"])
        service.grant_role(actor=current_user, user=user, role=data["role"], place_id=data["place_id"],
                           region_code=data["region_code"], provider_id=data["provider_id"])
        return user

    @roles_required(Role.admin)
    @users_blp.arguments(schemas.GrantIn, location="query")
    @users_blp.response(200, schemas.UserAdminOut)
    def delete(self, data, user_id):
        """Revoke a role."""
        user = service.get_or_raise(id=user_id)
        scope.check_person(user)
        service.revoke_role(actor=current_user, user=user, role=data["role"], place_id=data["place_id"])
        return user


@users_blp.route("/<int(max=2147483647):user_id>")
class UserAdmin(MethodView):
    @roles_required(Role.admin)
    @users_blp.arguments(schemas.UserPatchIn)
    @users_blp.response(200, schemas.UserAdminOut)
    def patch(self, data, user_id):
        """Block or restore an account: a blocked person's codes are refused everywhere, offline too."""
        user = service.get_or_raise(id=user_id)
        scope.check_person(user)
        return service.set_active(actor=current_user, user=user, active=data["is_active"])


# --- labels /api/meta serves ---------------------------------------------------------------------

register_labels("subject_types", SUBJECT_LABELS)
register_labels("roles", ROLE_LABELS)
