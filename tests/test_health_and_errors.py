"""Health, request ids and the one JSON error shape."""

import io
import logging
import socket
import time
from contextlib import contextmanager

import pytest
from flask import Blueprint
from pydantic import BaseModel, Field

from app import create_app
from app.rest import StrictModel, operation
from app.rest.document import build_openapi
from tests.conftest import make_settings


def test_health_answers_ok_without_credentials(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"status": "OK"}


def test_ready_when_the_database_and_the_broker_answer(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json == {"status": "OK", "checked": ["database", "schema", "broker"]}


@contextmanager
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        ({"sqlalchemy_database_uri": "postgresql://postgres@127.0.0.1:1/nothing"}, "database"),
        ({"celery_broker_url": "redis://127.0.0.1:1/0"}, "broker"),
        ({"celery_broker_url": "amqp://guest:guest@127.0.0.1:1//"}, "broker"),
        ({"sqlalchemy_database_uri": "postgresql://postgres@127.0.0.1:{silent}/x"}, "database"),
        ({"celery_broker_url": "redis://127.0.0.1:{silent}/0"}, "broker"),
    ],
)
def test_not_ready_names_what_did_not_answer_within_a_second(instance_path, failing, expected):
    with silent_server() as silent:
        failing = {name: value.format(silent=silent) for name, value in failing.items()}
        app = create_app(make_settings(instance_path, **failing))
        client = app.test_client()

        started = time.monotonic()
        ready = client.get("/health/ready")
        elapsed = time.monotonic() - started
        alive = client.get("/health")

    assert ready.status_code == 503
    assert ready.json["code"] == "not_ready"
    assert expected in ready.json["detail"]
    assert ({"database", "broker"} - {expected}).isdisjoint(ready.json["detail"].split())
    assert elapsed < 2.5
    assert alive.status_code == 200


def test_request_id_is_echoed_when_given(client):
    response = client.get("/health", headers={"X-Request-Id": "abc-123"})

    assert response.headers["X-Request-Id"] == "abc-123"


def test_request_id_is_generated_when_missing_or_malformed(client):
    generated = client.get("/health").headers["X-Request-Id"]
    replaced = client.get("/health", headers={"X-Request-Id": "bad id\twith spaces"})

    assert len(generated) == 32
    assert replaced.headers["X-Request-Id"] not in ("bad id\twith spaces", generated)


def test_request_id_is_in_the_log_line_of_the_request(client, caplog):
    caplog.set_level(logging.INFO, logger="wps.access")

    client.get("/health", headers={"X-Request-Id": "trace-me-42"})

    records = [r for r in caplog.records if r.name == "wps.access"]
    assert [r.request_id for r in records] == ["trace-me-42"]


def test_unknown_path_is_json_404(client):
    response = client.get("/no/such/thing")

    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert response.content_type == "application/json"


def test_wrong_method_is_json_405_with_allow(client):
    response = client.delete("/health")

    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_declared_oversize_body_is_json_413(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = client.post("/health", data=b"x" * (limit + 1))

    assert response.status_code == 413
    assert response.json["code"] == "request_entity_too_large"


class Greeting(StrictModel):
    name: str = Field(min_length=1)
    times: int = Field(1, ge=1)


class Reply(BaseModel):
    text: str


class Options(StrictModel):
    loud: bool = False
    times: int = Field(1, ge=1)


def _app_with_probe_routes(instance_path):
    app = create_app(make_settings(instance_path))
    probes = Blueprint("probes", __name__)

    @probes.post("/probe/greet")
    @operation("greet", tags=["probe"], body=Greeting, responses={200: Reply})
    def greet(body: Greeting):
        return Reply(text=" ".join([f"hello {body.name}"] * body.times)).model_dump()

    @probes.post("/probe/options")
    @operation("options", tags=["probe"], body=Options, responses={200: Options})
    def options(body: Options):
        return body.model_dump()

    @probes.get("/probe/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(probes)
    return app


def chunked(body: bytes, piece: int = 1000):
    """A body sent without Content-Length, as Transfer-Encoding: chunked delivers it."""
    return {
        "input_stream": io.BytesIO(body),
        "environ_overrides": {"wsgi.input_terminated": True},
        "headers": {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
    }


def test_a_chunked_body_over_the_limit_is_413_and_one_at_the_limit_is_read(instance_path):
    app = _app_with_probe_routes(instance_path)
    client = app.test_client()
    limit = app.config["MAX_CONTENT_LENGTH"]
    name = "a" * (limit - len('{"name": ""}'))
    at_the_limit = f'{{"name": "{name}"}}'.encode()

    over = client.post("/probe/greet", **chunked(at_the_limit + b" "))
    exact = client.post("/probe/greet", **chunked(at_the_limit))

    assert (over.status_code, over.json["code"]) == (413, "request_entity_too_large")
    assert exact.status_code == 200
    assert exact.json == {"text": f"hello {name}"}


def test_invalid_body_is_422_with_field_errors(instance_path):
    client = _app_with_probe_routes(instance_path).test_client()

    response = client.post("/probe/greet", json={"name": "", "times": 0, "extra": 1})

    assert response.status_code == 422
    assert response.json["code"] == "validation_error"
    locations = sorted(tuple(error["loc"]) for error in response.json["detail"])
    assert locations == [("body", "extra"), ("body", "name"), ("body", "times")]


def test_non_json_and_missing_bodies_are_422(instance_path):
    client = _app_with_probe_routes(instance_path).test_client()

    not_json = client.post("/probe/greet", data=b"{not json", content_type="application/json")
    missing = client.post("/probe/greet")

    assert not_json.status_code == 422
    assert not_json.json["detail"][0]["type"] == "json_invalid"
    assert missing.status_code == 422
    assert missing.json["detail"] == [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"}
    ]


def test_a_body_whose_fields_all_have_defaults_may_be_left_out(instance_path):
    app = _app_with_probe_routes(instance_path)
    client = app.test_client()

    omitted = client.post("/probe/options")
    blank = client.post("/probe/options", data=b"  ", content_type="application/json")

    assert omitted.json == blank.json == {"loud": False, "times": 1}
    with app.app_context():
        document = build_openapi(app, "probe", "0")
    assert document["paths"]["/probe/options"]["post"]["requestBody"]["required"] is False
    assert document["paths"]["/probe/greet"]["post"]["requestBody"]["required"] is True


def test_a_list_body_is_still_required(client, publisher_key):
    response = client.post("/events", headers=publisher_key)

    assert response.status_code == 422
    assert response.json["detail"][0]["msg"] == "A JSON body is required"


def test_valid_body_reaches_the_view(instance_path):
    client = _app_with_probe_routes(instance_path).test_client()

    response = client.post("/probe/greet", json={"name": "ada", "times": 2})

    assert response.json == {"text": "hello ada hello ada"}


def test_unexpected_error_is_500_without_traceback_and_logged(instance_path, caplog):
    client = _app_with_probe_routes(instance_path).test_client()

    response = client.get("/probe/boom")

    assert response.status_code == 500
    assert response.json == {"detail": "Internal server error", "code": "internal_error"}
    assert b"secret internals" not in response.data
    logged = [r for r in caplog.records if r.exc_info]
    assert "secret internals" in str(logged[0].exc_info[1])
