"""/api/meta is assembled from what each domain registers; core imports no domain's labels."""
import ast
from pathlib import Path

import pytest

from backend.accounts.enums import ROLE_LABELS, SUBJECT_LABELS
from backend.checkins.enums import PURPOSE_LABELS
from backend.core import audit, meta
from backend.scheduler.enums import Outcome
from backend.scheduler.jobs import JOBS
from backend.core.regions import DISTRICTS, REGION_NAMES
from backend.events.enums import KIND_LABELS as EVENT_KIND_LABELS
from backend.places.enums import KIND_LABELS, SERVICES
from backend.programme.enums import MEASURE_LABELS
from backend.loans.enums import BORROWER_LABELS, DOCUMENT_LABELS, IDENTITY_LABELS, STATE_LABELS, STATEMENT_LABELS


def options(labels):
    return [{"value": str(value), "label": label} for value, label in labels.items()]


def test_meta_answers_what_it_answered_before_the_registry(client, app):
    """The same names and values as when core/routes.py imported every domain's enums."""
    assert client.get("/api/meta").get_json() == {
        "place_kinds": options(KIND_LABELS),
        "subject_types": options(SUBJECT_LABELS),
        "districts": options(DISTRICTS),
        "regions": options(REGION_NAMES),
        "roles": options(ROLE_LABELS),
        "place_services": list(SERVICES),
        "event_kinds": options(EVENT_KIND_LABELS),
        "visit_purposes": options(PURPOSE_LABELS),
        "audit_actions": options(audit.ACTION_LABELS),
        "programme_measures": options(MEASURE_LABELS),
        "jobs": options({job.name: job.label for job in JOBS.values()}),
        "job_outcomes": options(Outcome.labels()),
        "loan_states": options(STATE_LABELS),
        "loan_borrower_types": options(BORROWER_LABELS),
        "loan_document_kinds": options(DOCUMENT_LABELS),
        "loan_identity_categories": options(IDENTITY_LABELS),
        "loan_statement_states": options(STATEMENT_LABELS),
        "demo": app.config["DEMO_LOGIN"],
    }
    assert [o["label"] for o in client.get("/api/meta").get_json()["place_kinds"]][0] == "喵小创空间"


def test_the_openapi_document_lists_every_registered_name(client):
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["MetaOut"]
    assert set(schema["properties"]) == {"place_kinds", "subject_types", "districts", "regions", "roles",
                                         "place_services", "event_kinds", "visit_purposes", "audit_actions",
                                         "programme_measures", "jobs", "job_outcomes", "loan_states",
                                         "loan_borrower_types", "loan_document_kinds", "loan_identity_categories",
                                         "loan_statement_states", "demo"}


def test_a_name_cannot_be_registered_twice_with_other_labels():
    meta.register_labels("roles", ROLE_LABELS)  # the same again: nothing changes
    with pytest.raises(ValueError, match="roles"):
        meta.register_labels("roles", {"admin": "另一个名字"})


def test_core_routes_import_no_domain():
    tree = ast.parse(Path(meta.__file__).with_name("routes.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {m for m in imported if m.startswith("backend.") and not m.startswith("backend.core")} == set()


def test_the_roles_are_named_one_way_everywhere():
    """The station role serves 驿站, 街区, 市场 and 空间 alike: it is 场所工作人员 in the server's labels,
    in the miniapp's offline fallback labels (lib/meta.js) and in the README's account table."""
    import re

    root = Path(__file__).resolve().parents[2]
    assert ROLE_LABELS["station_staff"] == "场所工作人员"
    fallback = dict(re.findall(r"\{ value: '(\w+)', label: '([^']+)' \}",
                               (root / "miniapp/lib/meta.js").read_text().split("roles: [")[1].split("]")[0]))
    assert fallback == {str(role): label for role, label in ROLE_LABELS.items()}
    readme = dict(re.findall(r"^\| `(\w+)` \| ([^|(]+?) [|(]", (root / "README.md").read_text(), re.M))
    assert {role: readme.get(role) for role in ROLE_LABELS} == {str(role): label for role, label in ROLE_LABELS.items()}
