"""Fuzzing the API against its own OpenAPI document (schemathesis), as the public and as a
partner system: no 500s, every response in the shape the document promises."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from kip.actors import Actor
from kip.services import accounts

CASES_PER_OPERATION = 40
COUNTED: dict[str, int] = {}


@pytest.fixture
def api_schema(app, connection):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def partner(session, make_org, make_work):
    org = make_org("Fuzz Netbeheer", kind="grid_operator")
    for visibility in ("public", "partners", "confidential"):
        make_work(organisation=org, visibility=visibility)
    new = accounts.create_token(
        session, Actor.system("test"), organisation=org, scope="write", name="fuzz"
    )
    session.flush()
    return {"Authorization": f"Bearer {new.secret}"}


SETTINGS = settings(
    max_examples=CASES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _call(case, headers: dict[str, str]) -> None:
    headers = dict(headers)
    if case.method in ("PATCH", "DELETE"):
        headers["If-Match"] = '"v1"'
    COUNTED[case.operation.label] = COUNTED.get(case.operation.label, 0) + 1
    # Every check but "positive data acceptance": KIP also refuses input that the schema
    # cannot describe (a bbox whose minimum exceeds its maximum, an unknown discipline,
    # an end before the start), each with a 422 the document does describe.
    case.call_and_validate(headers=headers, excluded_checks=[checks.positive_data_acceptance])


def _takes_input(operation) -> bool:
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def _fuzz(api_schema, headers: dict[str, str]) -> None:
    """Every operation of the document: CASES_PER_OPERATION valid-looking requests and as many
    invalid ones (negative testing), each."""
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not _takes_input(operation):
                continue  # no parameters and no body: there is no invalid request to make

            @given(case=operation.as_strategy(generation_mode=mode))
            @SETTINGS
            def run(case) -> None:
                _call(case, headers)

            run()


def test_the_api_keeps_its_promises_to_the_public(api_schema):
    _fuzz(api_schema, {})


def test_the_api_keeps_its_promises_to_partners(api_schema, partner):
    _fuzz(api_schema, partner)


def test_a_form_field_without_a_readable_name_is_a_422(client, partner):
    """Found by the fuzzing: a multipart field named by a bare carriage return."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name=""\r\n\r\nnull\r\n'
        b'--B\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n--B--\r\n'
    )
    headers = {**partner, "Content-Type": "multipart/form-data; boundary=B"}
    response = client.post("/api/v1/imports", data=body, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_report_the_number_of_cases_run():
    """Runs after the fuzzing (same module, in order): says how many requests it made."""
    total = sum(COUNTED.values())
    print(f"\nschemathesis: {total} requests over {len(COUNTED)} operations: {COUNTED}")
    assert total >= len(COUNTED) and len(COUNTED) >= 5
