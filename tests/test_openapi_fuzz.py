"""schemathesis against the served /openapi.json, with real database and credentials.

Every operation gets generated requests (bounded for CI); no answer may be a 5xx,
and every answer must conform to the document: status code, content type, schema,
headers. The heuristic checks that a schema-valid request is accepted (or an
invalid one refused) are left out: OpenAPI cannot state rules such as "the
accession in the body equals the one in the path", and lenient parsing (`0` for
`false`) is a choice, not a defect.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.support.factories import ApplicationKeyFactory, create_dataset, create_upload_box
from tests.support.users import Researcher

MAX_EXAMPLES = 12
HEURISTIC_CHECKS = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def credentials(app, db):
    create_dataset("DS1", files=2)
    create_upload_box()
    key = ApplicationKeyFactory(permissions=("ADMIN",)).key
    return {"Workflow-API-Key": key, "Authorization": f"Bearer {Researcher(app).token()}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operations_conform_and_never_fail_on_the_server(case, credentials):
    case.call_and_validate(headers=credentials, excluded_checks=HEURISTIC_CHECKS)


# NUL cannot be stored; the other control characters can. Random generation seldom
# picks them, so every string of every generated request gets them. (Lone surrogates
# cannot travel in a URL; tests/test_unstorable_text.py sends them in bodies.)
CONTROL_CHARACTERS = "\x00\x01\x07\t\x1b\x1f\x7f"


def with_control_characters(value):
    if isinstance(value, str):
        middle = len(value) // 2
        return value[:middle] + CONTROL_CHARACTERS + value[middle:]
    if isinstance(value, dict):
        return {key: with_control_characters(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_control_characters(item) for item in value]
    return value


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_control_characters_in_every_string_never_fail_on_the_server(case, credentials):
    case.body = with_control_characters(case.body)
    for part in ("path_parameters", "query"):
        setattr(case, part, with_control_characters(getattr(case, part)))

    response = case.call(headers=credentials)

    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400 and response.headers.get("Content-Type", [""]):
        body = response.json()
        drs = case.path.startswith("/ga4gh/drs/v1")  # DRS's own error shape (ADR 28)
        ours = {"detail", "code"} <= set(body) or "exception_id" in body
        assert set(body) == {"msg", "status_code"} if drs else ours, body
