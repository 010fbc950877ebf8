"""Migrations are the schema: they agree with the models on both databases."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.config import Settings
from app.database import Base

ROOT = Path(__file__).resolve().parent.parent


def test_models_and_migrations_agree_on_postgresql(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_upgrade_builds_the_schema_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env |= {"INSTANCE_PATH": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'wps.sqlite'}")
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def _flask_db(tmp_path, *arguments) -> None:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env |= {"INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "run", "db", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_a_database_that_had_an_admin_keeps_initial_admin_email_from_making_another(tmp_path):
    from sqlalchemy import text

    _flask_db(tmp_path, "upgrade", "secondfactor_1")
    engine = create_engine(f"sqlite:///{tmp_path / 'wps.sqlite'}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (id, name, email, email_key, email_verified, status, "
                "role, created_at) VALUES ('0f0e0d0c0b0a09080706050403020100', 'Bo', "
                "'bo@uni.example', 'bo@uni.example', 1, 'disabled', 'admin', "
                "'2026-01-01 00:00:00')"
            )
        )

    _flask_db(tmp_path, "upgrade")

    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM service_milestone")).scalars().all()
    assert names == ["first_admin"]
