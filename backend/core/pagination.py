"""Paging for lists given as a SQLAlchemy Select: COUNT and LIMIT/OFFSET run in the database."""
from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Page

from backend.extensions import db


class SelectPage(Page):
    @property
    def items(self):
        params = self.page_params
        return db.session.scalars(self.collection.limit(params.page_size).offset(params.first_item)).all()

    @property
    def item_count(self):
        return db.session.scalar(sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery()))
