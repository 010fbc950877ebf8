"""Security properties a user or operator would check."""

import pytest

from app import create_app
from tests.conftest import make_settings


@pytest.fixture
def cors_client(db, instance_path):
    app = create_app(make_settings(instance_path, cors_allowed_origins=["https://portal.example"]))
    return app.test_client()


def test_cors_allows_only_configured_origins(cors_client):
    allowed = cors_client.options(
        "/health",
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
    )
    foreign = cors_client.options(
        "/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )

    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://portal.example"
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_no_cors_headers_without_configured_origins(client):
    response = client.get("/health", headers={"Origin": "https://portal.example"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_secrets_are_compared_in_constant_time():
    """Key and WPAT checks go through hmac.compare_digest, never `==` on secrets."""
    import inspect

    from app.credentials import work_package_access_tokens
    from roles import store

    assert "hmac.compare_digest" in inspect.getsource(
        work_package_access_tokens.access_token_matches
    )
    assert "hmac.compare_digest" in inspect.getsource(store.ApplicationStore.authenticate)


def test_oversize_bodies_are_refused_before_authentication(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = client.post("/work-packages", data=b"x" * (limit + 1))

    assert response.status_code == 413
    assert response.json["code"] == "request_entity_too_large"
