"""Without a provider: a labelled development sign-in for operator-made accounts only;
production refuses to start without one. And the pages' security headers."""

import os
import re
import subprocess
import sys

from app.config import Settings
from tests.support.oidc_provider import sign_in_with_test_client
from tests.support.people import post_form
from tests.test_cli import ROOT, invoke


def test_the_development_sign_in_offers_only_accounts_made_by_an_operator(
    identity_app, db, instance_path
):
    created = invoke(
        "create-user", "--name", "Ada Admin", "--email", "ada@uni.example", "--admin",
        instance_path=instance_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    ada_id = re.search(r"USER_ID=(\S+)", created.stdout).group(1)
    app = identity_app(instance_path, None)
    client = app.test_client()
    signed_up = client.post("/users/signup", json={"name": "Eve", "email": "eve@uni.example"})
    from tests.support.secrets_seen import remember

    remember(signed_up.json["refresh_token"])
    remember(created.stdout.split("REFRESH_TOKEN=")[1].strip())

    to_login = client.get("/login?next=/admin/users")
    page = client.get(to_login.headers["Location"])
    text = page.get_data(as_text=True)
    refused = post_form(
        client,
        "/login/development",
        {"account_id": signed_up.json["id"]},
        page="/login/development",
    )
    chosen = post_form(
        client, "/login/development", {"account_id": ada_id, "next": "/admin/users"},
        page="/login/development",
    )  # fmt: skip

    assert to_login.headers["Location"].startswith("/login/development")
    assert "Development only" in text and "ada@uni.example" in text
    assert "eve@uni.example" not in text
    assert refused.status_code == 404
    assert (chosen.status_code, chosen.headers["Location"]) == (303, "/admin/users")
    assert client.get("/admin/users").status_code == 200


def test_an_empty_development_sign_in_gives_the_commands_that_work(identity_app, db, instance_path):
    client = identity_app(instance_path, None).test_client()

    text = client.get("/login/development").get_data(as_text=True)

    assert "pipenv run invoke demo" in text  # the README's route: pipenv, not .venv
    assert 'pipenv run invoke create-user -n "Ada Admin"' in text.replace("&#34;", '"')
    assert ".venv/bin/python" not in text


def test_no_development_sign_in_with_a_provider(identity_app, db, instance_path, oidc_provider):
    client = identity_app(instance_path, oidc_provider).test_client()

    assert client.get("/login/development").status_code == 404


def test_production_without_a_provider_refuses_to_start_naming_the_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env |= {
        "INSTANCE_PATH": str(tmp_path),
        "DEPLOYMENT": "production",
        "SINGLE_REPLICA": "true",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SECRET_KEY": "x" * 32,
        "AUTH_SIGNING_KEY": _jwk(),
        "WORK_PACKAGE_SIGNING_KEY": _jwk(),
        "VISA_SIGNING_KEY": _jwk(),
        "STORAGE_CRYPT4GH_PRIVATE_KEY": "A" * 43 + "=",
    }

    result = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Invalid setting OIDC_ISSUER: required when DEPLOYMENT=production")


def _jwk() -> str:
    from app.credentials.jwk import generate_private_jwk

    return generate_private_jwk()


def test_pages_carry_the_security_headers_and_apidocs_runs_no_inline_script(
    identity_app, db, instance_path
):
    client = identity_app(instance_path, None).test_client()

    for path in ("/login/development", "/apidocs/"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]

        assert response.status_code == 200
        assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
    apidocs = client.get("/apidocs/").get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", apidocs) == []
    assert "<style" not in apidocs and "style=" not in apidocs
    assert client.get("/static/apidocs.js").status_code == 200


def test_the_session_cookie_is_secure_on_https(identity_app, db, instance_path, oidc_provider):
    from tests.support.people import INITIAL_ADMIN

    app = identity_app(instance_path, oidc_provider, public_base_url="https://wps.uni.example")
    oidc_provider.person("boss", email=INITIAL_ADMIN, email_verified=True)
    client = app.test_client()

    sign_in_with_test_client(client, oidc_provider, "boss")

    cookie = client.get_cookie("wps_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"


def test_an_operator_links_an_account_to_a_person_at_the_provider(
    identity_app, db, instance_path, oidc_provider
):
    from sqlalchemy import select

    from app.accounts.models import User
    from tests.support.secrets_seen import remember

    created = invoke(
        "create-user", "--name", "Ada", "--email", "ada@uni.example", "--admin",
        instance_path=instance_path,
    )  # fmt: skip
    remember(created.stdout.split("REFRESH_TOKEN=")[1].strip())
    linked = invoke(
        "link-account", "--email", "ADA@uni.example", "--subject", "ada-at-idp",
        "--issuer", oidc_provider.issuer, instance_path=instance_path,
    )  # fmt: skip
    again = invoke(
        "link-account", "--email", "ada@uni.example", "--subject", "other",
        "--issuer", oidc_provider.issuer, instance_path=instance_path,
    )  # fmt: skip
    # The provider does not vouch for this address: only the operator's link counts.
    oidc_provider.person("ada-at-idp", email="ada.l@elsewhere.example", email_verified=False)
    client = identity_app(instance_path, oidc_provider).test_client()

    landed = sign_in_with_test_client(client, oidc_provider, "ada-at-idp", "/admin/users")

    assert linked.returncode == 0, linked.stderr
    assert again.returncode == 1 and "no account waiting to be linked" in again.stderr
    assert landed.headers["Location"] == "/admin/users"
    (ada,) = db.session.scalars(select(User)).all()
    assert (ada.oidc_subject, ada.role, ada.email) == (
        "ada-at-idp",
        "admin",
        "ada.l@elsewhere.example",
    )
