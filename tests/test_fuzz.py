"""Schemathesis fuzzes every operation of the app's own OpenAPI document, authenticated as each
role and anonymously: no 5xx, and every response (errors included) matches its documented schema.

Hypothesis drives schemathesis' strategies directly (its pytest plugin's lazy loader does not
run under pytest 9); each operation is fuzzed in turn and every failure is reported together.
"""
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from backend.accounts.enums import Role

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 25


def test_api_fuzz(app, session, make_user, auth):
    headers_by_role = {"anonymous": {}, **{role.value: auth(make_user(role)) for role in Role}}
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            for headers in headers_by_role.values():
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
