"""Liveness and readiness answers for load balancers, orchestrators and clients."""

from flask import Blueprint, current_app
from pydantic import BaseModel

from app.errors import DomainError
from app.extensions import db
from app.health.readiness import (
    TIMEOUT_SECONDS,
    broker_check,
    database_check,
    failed_checks,
    schema_check,
)
from app.rest import operation

bp = Blueprint("health", __name__)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checked: list[str]


class NotReady(DomainError):
    """A service this one needs did not answer."""

    status, code = 503, "not_ready"


@bp.get("/health")
@operation(
    "Is the service up? (liveness; asks no other service)",
    tags=["health"],
    responses={200: Health},
)
def health():
    return Health(status="OK").model_dump()


@bp.get("/health/ready")
@operation(
    "Can the service do its work? (readiness)",
    description=f"200 when the database, and the Celery broker if one is set, answer "
    f"within {TIMEOUT_SECONDS:g} s and the database has every migration of this version "
    "(or a newer version's); else 503 `not_ready` naming what failed.",
    tags=["health"],
    responses={200: Readiness, 503: None},
)
def ready():
    if "schema_check" not in current_app.extensions:
        migrations = current_app.extensions["migrate"].directory
        current_app.extensions["schema_check"] = schema_check(db.engine, migrations)
    checks = {
        "database": database_check(db.engine),
        "schema": current_app.extensions["schema_check"],
    }
    broker = current_app.extensions["settings"].celery_broker_url
    if broker:
        checks["broker"] = broker_check(broker)
    failed = failed_checks(checks)
    if "database" in failed:
        failed.pop("schema", None)  # unanswered, not behind
    if failed:
        raise NotReady(f"Not ready: {'; '.join(failed.values())}")
    return Readiness(status="OK", checked=list(checks)).model_dump()
