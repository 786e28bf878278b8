from __future__ import annotations

from functools import wraps

from flask import g, request
from flask.views import MethodView
from flask_jwt_extended import current_user

from backend.accounts.enums import Role
from backend.core import signing
from backend.core.api import blueprint
from backend.core.auth import login_required, per_ip, roles_required
from backend.core.keys import keyring
from backend.devices import schemas, service
from backend.places import service as places

keys_blp = blueprint("keys", __name__, "/api/keys", "验签公钥（供离线设备缓存）")
my_devices_blp = blueprint("my_devices", __name__, "/api/me/devices", "我的设备：个人码设备密钥与凭证")
scanners_blp = blueprint("scanners", __name__, "/api", "扫码设备：开通、离线数据包、验码")

DEVICE = [{"deviceToken": []}]
STAFF = (Role.provider_staff, Role.station_staff, Role.organiser, Role.admin)


def device_required(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        g.scanner = service.authenticate_scanner(request.headers.get("X-Device-Token"))
        return fn(*args, **kwargs)

    return wrapper


@keys_blp.route("")
class Keys(MethodView):
    @keys_blp.etag
    @keys_blp.response(200, schemas.KeyOut(many=True))
    def get(self):
        """Active public keys (Ed25519) by key id; cache them and revalidate with If-None-Match."""
        return keyring().public_listing()


@my_devices_blp.route("")
class MyDevices(MethodView):
    @login_required
    @my_devices_blp.response(200, schemas.DeviceOut(many=True))
    def get(self):
        """My phones that can show my personal code."""
        return service.list_personal(user=current_user)

    @login_required
    @my_devices_blp.arguments(schemas.DeviceIn)
    @my_devices_blp.response(201, schemas.CredentialOut)
    def post(self, data):
        """Register this phone's device public key; returns its server-signed credential."""
        device, credential = service.register_personal(user=current_user, public_key=data["public_key"],
                                                       name=data["name"])
        return {"device": device, "credential": credential, **signing.personal_code_timing()}


@my_devices_blp.route("/<int(max=2147483647):device_id>")
class MyDevice(MethodView):
    @login_required
    @my_devices_blp.response(204)
    def delete(self, device_id):
        """Remove a phone: its codes are refused at once online and by scanners after their next refresh."""
        service.revoke_personal(user=current_user, id=device_id)


@my_devices_blp.route("/<int(max=2147483647):device_id>/credential")
class MyDeviceCredential(MethodView):
    @login_required
    @my_devices_blp.response(200, schemas.CredentialOut)
    def post(self, device_id):
        """Renew this phone's credential before it expires."""
        device, credential = service.renew_credential(user=current_user, id=device_id)
        return {"device": device, "credential": credential, **signing.personal_code_timing()}


@scanners_blp.route("/places/<int(max=2147483647):place_id>/scanner-setups")
class ScannerSetups(MethodView):
    @login_required
    @scanners_blp.response(201, schemas.SetupOut)
    def post(self, place_id):
        """A one-time setup code (valid 10 minutes) that turns a phone into this place's scanner."""
        setup, text = service.create_setup(actor=current_user, place=places.get_or_raise(id=place_id))
        return {"setup_id": setup.id, "setup_code": text, "expires_at": setup.expires_at}


@scanners_blp.route("/places/<int(max=2147483647):place_id>/scanners")
class PlaceScanners(MethodView):
    @login_required
    @scanners_blp.response(200, schemas.ScannerOut(many=True))
    def get(self, place_id):
        """Scanner devices of a place."""
        return service.list_scanners(actor=current_user, place=places.get_or_raise(id=place_id,
                                                                                    include_inactive=True))


@scanners_blp.route("/scanners/<int(max=2147483647):scanner_id>")
class Scanner(MethodView):
    @login_required
    @scanners_blp.arguments(schemas.ScannerPatchIn)
    @scanners_blp.response(200, schemas.ScannerOut)
    def patch(self, data, scanner_id):
        """Rename a scanner device (what managers and the phone itself show)."""
        return service.rename_scanner(actor=current_user, id=scanner_id, name=data["name"])

    @login_required
    @scanners_blp.response(200, schemas.ScannerOut)
    def delete(self, scanner_id):
        """Revoke a scanner device: its token is refused from now on."""
        return service.revoke_scanner(actor=current_user, id=scanner_id)


@scanners_blp.route("/scanner/demo-setup")
class DemoSetup(MethodView):
    @roles_required(Role.station_staff)
    @scanners_blp.response(201, schemas.SetupOut)
    def post(self):
        """Development only (demo login on): a setup code for the caller's own station, so the demo
        station phone provisions itself right after the demo login."""
        setup, text = service.demo_setup(actor=current_user)
        return {"setup_id": setup.id, "setup_code": text, "expires_at": setup.expires_at}


@scanners_blp.route("/scanner/provision")
class Provision(MethodView):
    decorators = [per_ip("20/minute")]

    @scanners_blp.arguments(schemas.ProvisionIn)
    @scanners_blp.response(201, schemas.ProvisionOut)
    def post(self, data):
        """Exchange a setup code for this scanner's own token (shown once)."""
        device, token = service.provision(setup_code=data["setup_code"], name=data["name"])
        return {"device": device, "token": token}


@scanners_blp.route("/scanner/bundle")
class Bundle(MethodView):
    @device_required
    @scanners_blp.doc(security=DEVICE)
    @scanners_blp.etag
    @scanners_blp.arguments(schemas.BundleQueryIn, location="query")
    @scanners_blp.response(200, schemas.BundleOut)
    def get(self, args):
        """Offline bundle: keys, revocations (all, or after ?since=cursor) and the place."""
        return service.bundle(device=g.scanner, since=args.get("since"))


@scanners_blp.route("/scanner/verify")
class ScannerVerify(MethodView):
    @device_required
    @scanners_blp.doc(security=DEVICE)
    @scanners_blp.arguments(schemas.VerifyIn)
    @scanners_blp.response(200, schemas.VerifyOut)
    def post(self, data):
        """Verify a scanned code online (a scanner device)."""
        return service.verify_code(text=data["code"], expect=data["expect"])


@scanners_blp.route("/codes/verify")
class StaffVerify(MethodView):
    @roles_required(*STAFF)
    @scanners_blp.arguments(schemas.VerifyIn)
    @scanners_blp.response(200, schemas.VerifyOut)
    def post(self, data):
        """Verify a scanned code online (staff signed in with their own account)."""
        return service.verify_code(text=data["code"], expect=data["expect"])
