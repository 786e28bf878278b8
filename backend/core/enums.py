"""Enums whose members carry their Chinese label, so a value and what the user reads of it are
declared on one line: ``salon = "salon", "创业沙龙"``."""
from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """{member: 中文} in declaration order, as /api/meta and the exports show them."""
        return {member: member.label for member in cls}
