"""Extension instances, bound to the app in create_app(). (The API instance is ``backend.core.api.api``:
it needs core's error handling, and core needs ``db`` from here.)"""
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from backend.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
