"""The work package service: a Flask application built by `create_app`."""

import secrets
from pathlib import Path

from flasgger import Swagger
from flask import Flask, jsonify
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app.access.policy import make_access_policy
from app.accounts import init_accounts
from app.authz.levels import warn_when_off
from app.authz.passports import KEY_SETS as PASSPORT_KEY_SETS
from app.catalog.signals import upload_box_deleting
from app.celery_init_app import celery_init_app
from app.config import Settings, load_settings
from app.cors import cors_options
from app.credentials.keys import load_token_keys, load_visa_keys
from app.credentials.passports import KeySets
from app.database import render_migration_item
from app.errors import register_body_limit, register_error_handlers
from app.extensions import cors, db, limiter, migrate
from app.feeds.appliers import make_appliers
from app.health.state_gauges import StateCollector
from app.identity import init_identity
from app.instance_secrets import instance_secret, refuse_production_without_secrets
from app.logs import configure_logging, register_request_logging
from app.metrics import register_metrics
from app.pages import register_pages
from app.rest.document import build_openapi
from app.storage import make_object_store
from app.storage.keys import load_storage_keys
from app.storage.signals import part_arriving
from app.tracing import configure_tracing
from app.transfer.services import refuse_part_beyond_box_limit
from app.web import init_web
from app.work_packages.services import delete_packages_of_box
from app.work_packages.wsgi_token_layer import install_token_endpoints

__version__ = "0.1.0"
TITLE = "Work Package Service"
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, span_exporter=None) -> Flask:
    """A configured application; reads the environment only when no settings are given."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path.resolve())
        if settings.instance_path
        else str(REPOSITORY_ROOT / "instance"),
        template_folder="web/templates",
        static_folder="web/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_logging(settings)
    refuse_production_without_secrets(settings)
    warn_when_off(settings)
    app.config.from_mapping(_flask_config(settings, app.instance_path))
    app.extensions["settings"] = settings
    app.extensions["token_keys"] = load_token_keys(settings, app.instance_path)
    app.extensions["visa_keys"] = visa_keys = load_visa_keys(settings, app.instance_path)
    app.extensions[PASSPORT_KEY_SETS] = KeySets(
        settings.passport_jwks_cache_seconds, local={visa_keys.jku: visa_keys.jwks}
    )
    app.extensions["access_policy"] = make_access_policy(settings)
    app.extensions["feed_appliers"] = make_appliers(settings)
    # The catalog announces; the rooms above it remove what they hold (ADR 26).
    upload_box_deleting.connect(delete_packages_of_box)
    part_arriving.connect(refuse_part_beyond_box_limit)
    app.extensions["storage_keys"] = load_storage_keys(settings, app.instance_path)
    app.extensions["object_store"] = make_object_store(
        settings, app.instance_path, app.config["SECRET_KEY"]
    )

    db.init_app(app)
    # One unit of work per request, even when the app context outlives it (tests,
    # eager tasks): nothing cached in the session leaks into the next request.
    app.teardown_request(lambda _error: db.session.remove())
    migrate.init_app(
        app,
        db,
        directory=str(REPOSITORY_ROOT / "migrations"),
        render_item=render_migration_item,
        render_as_batch=True,
        compare_type=True,
    )
    if cors_options(settings):
        cors.init_app(app, **cors_options(settings))
    limiter.init_app(app)
    celery_init_app(app)
    register_error_handlers(app)
    register_request_logging(app)
    register_body_limit(app)
    register_metrics(app, state=StateCollector)
    init_accounts(app)
    init_web(app)
    init_identity(app)
    _register_blueprints(app)
    _register_api_docs(app, settings)
    configure_tracing(app, settings, span_exporter)
    _trust_proxies(app, settings.trusted_proxy_hops)
    install_token_endpoints(app)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """The client's address, scheme and host as the `hops` proxies in front saw them.

    Behind a proxy every request comes from the proxy's address, so the per-address
    rate limits (sign-in, signup) would put everyone in one bucket. With no proxy
    (0) the `X-Forwarded-*` headers are ignored: a client could write any address
    there and leave its bucket. Installed below the token endpoints, which use none
    of these, so their path stays as short as it was (ADR 16, ADR 22).
    """
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _flask_config(settings: Settings, instance_path: str) -> dict:
    database_uri = settings.sqlalchemy_database_uri or (
        f"sqlite:///{Path(instance_path) / 'wps.sqlite'}"
    )
    secret_key = (
        settings.secret_key.get_secret_value()
        if settings.secret_key
        else instance_secret(
            instance_path, "SECRET_KEY", settings.deployment, lambda: secrets.token_hex(32)
        )
    )
    # No pre-ping: it would cost a round trip per request. A connection the database
    # dropped fails one request with 503 and the pool is invalidated and refilled.
    engine_options: dict = {}
    if not database_uri.startswith("sqlite"):
        engine_options |= {
            "pool_size": settings.sqlalchemy_pool_size,
            "max_overflow": 5,
            # Closing a connection already rolls back its open transaction; the
            # pool's own reset would be a second round trip on every request.
            "pool_reset_on_return": None,
        }
    return {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "APPLICATION_ROOT": settings.api_root_path or "/",
        "JSON_SORT_KEYS": False,
        "RATELIMIT_STORAGE_URI": _rate_limit_storage(settings),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A rate limit store that is down takes neither the limited routes down nor
        # their limits: each process counts in memory (logged once) until it is back.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SWAGGER": {
            "title": TITLE,
            "openapi": "3.0.3",
            "uiversion": 3,
            "specs_route": "/apidocs/",
            "specs": [{"endpoint": "openapi", "route": "/openapi.json"}],
        },
    }


def _rate_limit_storage(settings: Settings) -> str:
    if settings.ratelimit_storage_uri:
        return settings.ratelimit_storage_uri
    broker = settings.celery_broker_url or ""
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def _register_blueprints(app: Flask) -> None:
    from app.access.requests.routes import bp as access_requests
    from app.access.routes import bp as access
    from app.accounts.routes import bp as accounts
    from app.applications.routes import bp as applications
    from app.catalog.routes import bp as catalog
    from app.drs.routes import init_drs
    from app.feeds.routes import bp as feeds
    from app.health.routes import bp as health
    from app.ivas.routes import bp as ivas
    from app.jobs.routes import bp as jobs
    from app.second_factor.api import bp as second_factor_api
    from app.storage.routes import bp as storage
    from app.transfer.routes import download, stewardship, upload
    from app.visas.routes import bp as visas
    from app.wellknown.routes import bp as wellknown
    from app.work_packages.routes import bp as work_packages

    blueprints = (health, wellknown, work_packages, download, upload, storage)
    operators = (catalog, stewardship, access, access_requests, feeds, jobs, applications)
    for blueprint in (*blueprints, accounts, *operators, ivas, second_factor_api, visas):
        app.register_blueprint(blueprint)
    init_drs(app)
    register_pages(app)


def _register_api_docs(app: Flask, settings: Settings) -> None:
    document = build_openapi(app, TITLE, __version__, settings.api_root_path)
    app.extensions["openapi"] = document
    Swagger(app)
    # Flasgger supplies the Swagger UI; the document it points at is ours,
    # generated from the pydantic models, not assembled from docstrings.
    app.view_functions["flasgger.openapi"] = lambda: jsonify(document)


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
