"""The OpenAPI document and the README settings table match the code."""

from pathlib import Path

import yaml
from openapi_spec_validator import validate

from app.docs_generation import openapi_yaml, with_settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_served_document_is_valid_openapi_3(client):
    document = client.get("/openapi.json").json

    validate(document)
    assert document["openapi"].startswith("3.")
    assert "/health" in document["paths"]


def test_swagger_ui_is_served_as_html(client):
    response = client.get("/apidocs", follow_redirects=True)

    assert response.status_code == 200
    assert b"swagger-ui" in response.data
    assert b"/openapi.json" in response.data


def test_committed_openapi_yaml_is_current():
    committed = (ROOT / "openapi.yaml").read_text()

    assert committed == openapi_yaml(), "run `invoke openapi` and commit openapi.yaml"


def test_served_document_equals_the_committed_one(client):
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text())

    assert client.get("/openapi.json").json == committed


def test_the_settings_table_is_current():
    document = (ROOT / "docs" / "configuration.md").read_text()

    assert document == with_settings_table(document), "run `invoke config-docs`"


def test_the_api_guide_names_only_endpoints_and_commands_that_exist(client):
    import re

    from invoke import Collection

    import tasks

    document = client.get("/openapi.json").json
    guide = document["info"]["description"]
    commands = Collection.from_module(tasks).task_names

    named_endpoints = re.findall(r"`(GET|POST|PUT|DELETE) (/[^`\s]*)`", guide)
    named_commands = re.findall(r"`invoke ([a-z-]+)", guide)

    for credential in ("Application key", "Refresh token", "Access token",
                       "Work package access token", "Work order token"):  # fmt: skip
        assert f"**{credential}**" in guide
    assert len(named_endpoints) >= 8 and len(named_commands) >= 3
    for method, path in named_endpoints:
        assert method.lower() in document["paths"][path], f"{method} {path}"
    for command in named_commands:
        assert command in commands, command
    for link in re.findall(r"\]\(\.\./([^)]+)\)", guide):
        assert client.get(f"/{link}").status_code == 200, link
