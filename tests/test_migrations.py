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
