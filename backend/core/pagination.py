"""Paging for lists given as a SQLAlchemy Select: COUNT and LIMIT/OFFSET run in the database."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from flask_smorest import Page

from backend.extensions import db


@dataclass(frozen=True)
class AnnotatedSelect:
    """A list whose rows need more than their columns before a schema shows them (my standing on each
    batch, a place in the waitlist): ``annotate(rows)`` runs once on the rows of the page, so a
    service computes it set-based instead of a schema querying row by row."""

    query: sa.Select
    annotate: Callable[[list], object]


class SelectPage(Page):
    def _query(self) -> sa.Select:
        return self.collection.query if isinstance(self.collection, AnnotatedSelect) else self.collection

    @property
    def items(self):
        params = self.page_params
        rows = db.session.scalars(self._query().limit(params.page_size).offset(params.first_item)).all()
        if isinstance(self.collection, AnnotatedSelect):
            self.collection.annotate(rows)
        return rows

    @property
    def item_count(self):
        return db.session.scalar(sa.select(sa.func.count()).select_from(self._query().order_by(None).subquery()))
