"""Pluggable SMS senders.  SMS_SENDER names one as "module:Class"; the development sender
writes the code to the log so a developer can log in without a gateway."""
from __future__ import annotations

import importlib
import logging

from flask import current_app

from backend.core.validators import mask_phone

log = logging.getLogger(__name__)


class SmsSender:
    def send_login_code(self, *, phone: str, code: str, ttl_seconds: int) -> None:
        raise NotImplementedError


class LogSender(SmsSender):
    def send_login_code(self, *, phone: str, code: str, ttl_seconds: int) -> None:
        log.warning("SMS login code for %s: %s (valid %d min)", mask_phone(phone), code, ttl_seconds // 60)


def sender() -> SmsSender:
    cached = current_app.extensions.get("sms_sender")
    if cached is None:
        module_name, _, class_name = current_app.config["SMS_SENDER"].partition(":")
        cached = getattr(importlib.import_module(module_name), class_name)()
        current_app.extensions["sms_sender"] = cached
    return cached
