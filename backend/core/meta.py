"""The labels the miniapp needs (/api/meta), assembled from what each domain registers: ``core``
imports no domain. A domain registers its labels at the end of its routes module, which create_app
imports before it builds the endpoint (core/routes.py ``meta_blueprint``)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from backend.core import fields
from backend.core.schemas import Schema

_REGISTERED: dict[str, Mapping | list] = {}


class Option(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)


def register_labels(name: str, labels: Mapping) -> None:
    """Serve ``labels`` ({value: 中文}) under ``name`` as a list of {value, label}, in their order."""
    _register(name, labels)


def register_values(name: str, values: Sequence[str]) -> None:
    """Serve ``values`` (already Chinese) under ``name`` as a plain list."""
    _register(name, list(values))


def _register(name: str, item) -> None:
    known = _REGISTERED.get(name)
    if known is not None and known != item:
        raise ValueError(f"/api/meta: {name!r} is already registered with other labels")
    _REGISTERED[name] = item


def registered() -> dict:
    """Every registered name with what /api/meta serves for it."""
    return {name: [{"value": str(k), "label": v} for k, v in item.items()] if isinstance(item, Mapping) else item
            for name, item in _REGISTERED.items()}


def response_schema() -> type[Schema]:
    """The response's schema for what is registered now (so the OpenAPI document lists every name)."""
    declared = {name: fields.List(fields.Nested(Option), required=True) if isinstance(item, Mapping)
                else fields.List(fields.String(), required=True) for name, item in _REGISTERED.items()}
    declared["demo"] = fields.Boolean(required=True)
    return Schema.from_dict(declared, name="MetaOut")
