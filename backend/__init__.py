"""创业齐鲁 platform backend: create_app() wires settings, extensions, blueprints and CLI."""
from __future__ import annotations

import os

from flask import Flask

from backend import config as settings
from backend.core.api import api
from backend.extensions import db, jwt, limiter, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None, static_folder=None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings.load(app.instance_path, config))
    if config:
        app.config.update(config)
    from backend.core.payload import JSONProvider

    app.json = JSONProvider(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    settings.service_options(app.config)

    from backend.accounts import identity
    from backend.core import auth, keys, ops, pii
    from backend.core.db import configure_sqlite, render_item

    pii.init_app(app)
    keys.init_app(app)
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    keys.startup(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True,
                     render_item=render_item)
    jwt.init_app(app)
    auth.init_app(app)
    identity.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    _register_blueprints(app)
    ops.init_app(app)  # before the commit hook: its after-request runs after the commit's
    _register_request_commit(app)

    from backend import cli

    cli.register(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from backend import web
    from backend.accounts.routes import auth_blp, me_blp, users_blp
    from backend.checkins.routes import checkins_blp, my_visits_blp, review_blp
    from backend.core.routes import audit_blp, meta_blueprint, uploads_blp
    from backend.devices.routes import keys_blp, my_devices_blp, scanners_blp
    from backend.events.routes import events_blp, mine_blp, organiser_blp
    from backend.loans.routes import blp as loans_blp
    from backend.notifications.routes import blp as notifications_blp
    from backend.places.routes import admin_blp as places_admin_blp, blp as places_blp
    from backend.programme.routes import blp as programme_blp
    from backend.scheduler.routes import blp as scheduler_blp
    from backend.vouchers.routes import admin_blp, catalogue_blp, centre_blp, desk_blp, wallet_blp

    meta_blp = meta_blueprint()  # after every routes module above has registered its labels
    for blp in (meta_blp, auth_blp, me_blp, users_blp, places_blp, audit_blp, keys_blp, my_devices_blp,
                scanners_blp, uploads_blp, notifications_blp, centre_blp, wallet_blp, catalogue_blp, desk_blp,
                admin_blp, events_blp, mine_blp, organiser_blp, checkins_blp, my_visits_blp, review_blp,
                places_admin_blp, programme_blp, scheduler_blp, loans_blp):
        api.register_blueprint(blp)
    app.register_blueprint(web.bp)


def _register_request_commit(app: Flask) -> None:
    """Services flush; the request commits once at the end, or rolls back on any failure. A database
    lost at the commit answers 503 like one lost earlier (core/errors.py): the client retries with its
    idempotency key or nonce; nothing was committed."""
    from backend.core import errors

    @app.after_request
    def _commit(response):
        if response.status_code < 400:
            try:
                db.session.commit()
            except errors.UNAVAILABLE_ERRORS as error:
                return errors.handle_unavailable(error)
        else:
            db.session.rollback()
        return response
