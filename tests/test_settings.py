"""Typed settings: environment, YAML file, and clear start-up failures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _start_app(env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env |= {"INSTANCE_PATH": str(tmp_path)} | env_overrides
    return subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_malformed_setting_stops_start_up_with_one_line_naming_it(tmp_path):
    result = _start_app({"MAX_CONTENT_LENGTH": "abc"}, tmp_path)

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Invalid setting MAX_CONTENT_LENGTH:")
    assert "'abc'" in lines[0]


def test_secret_settings_are_not_echoed_in_the_error(monkeypatch):
    monkeypatch.setenv("SQLALCHEMY_POOL_SIZE", "0")
    monkeypatch.setenv("SECRET_KEY", "x")

    with pytest.raises(SettingsError) as failure:
        load_settings()

    assert "SQLALCHEMY_POOL_SIZE" in str(failure.value)


def test_missing_yaml_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("WPS_CONFIG_YAML", str(tmp_path / "absent.yaml"))

    with pytest.raises(SettingsError, match="WPS_CONFIG_YAML"):
        load_settings()


def test_yaml_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    config = tmp_path / "wps.yaml"
    config.write_text("log_level: DEBUG\npublic_base_url: https://yaml.example\n")
    monkeypatch.setenv("WPS_CONFIG_YAML", str(config))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://env.example")

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert str(settings.public_base_url) == "https://env.example/"


def test_defaults_are_the_embedded_ones(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)

    settings = load_settings()

    assert settings.sqlalchemy_database_uri is None
    assert settings.eager_tasks is True
    assert settings.log_format == "json"
    assert settings.cors_allowed_origins == []


def test_a_broker_turns_eager_tasks_off_unless_asked(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

    assert load_settings().eager_tasks is False
    assert load_settings(celery_always_eager=True).eager_tasks is True


@pytest.mark.parametrize(
    "given", ["https://a.example,https://b.example", '["https://a.example","https://b.example"]']
)
def test_cors_origins_accept_a_list_or_commas(monkeypatch, given):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", given)

    assert load_settings().cors_allowed_origins == ["https://a.example", "https://b.example"]


def test_bare_postgres_urls_use_the_installed_driver():
    settings = Settings(sqlalchemy_database_uri="postgresql://u@h/db")

    assert settings.sqlalchemy_database_uri == "postgresql+psycopg2://u@h/db"


def test_production_refuses_generated_secrets(tmp_path):
    single = {"SINGLE_REPLICA": "true", "RATELIMIT_STORAGE_URI": "memory://"}
    result = _start_app({"DEPLOYMENT": "production"} | single, tmp_path)

    assert result.returncode == 1
    # Every missing secret in the one message, not one per start.
    assert (
        "Invalid settings: SECRET_KEY, WORK_PACKAGE_SIGNING_KEY, VISA_SIGNING_KEY, "
        "STORAGE_CRYPT4GH_PRIVATE_KEY, AUTH_SIGNING_KEY, OIDC_ISSUER are required when "
        "DEPLOYMENT=production"
    ) in result.stderr


def test_production_refuses_slack_buttons_anyone_in_the_channel_could_press(tmp_path):
    result = _start_app(
        {"DEPLOYMENT": "production", "SLACK_SIGNING_SECRET": "from-the-slack-app"}, tmp_path
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Invalid setting SLACK_APPROVER_IDS:")
    assert "from-the-slack-app" not in result.stderr


def test_a_base_url_without_its_scheme_says_to_add_it(tmp_path):
    result = _start_app({"PUBLIC_BASE_URL": "127.0.0.1:5001"}, tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Invalid setting PUBLIC_BASE_URL: add http:// or https:// in front: "
        "http://127.0.0.1:5001 (got '127.0.0.1:5001')"
    ]
