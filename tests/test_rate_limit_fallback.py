"""Rate limits hold, per process, while their Redis store is down."""

import logging

from flask import Blueprint
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app import create_app
from tests.conftest import make_settings

FALLBACK_MESSAGE = "falling back to in-memory storage"


def app_with_a_limited_route(instance_path, storage_uri: str):
    """The service's limiter configuration, on a probe route limited to 2 a minute.

    A limiter of the test's own keeps the session's shared limiter out of this.
    """
    app = create_app(make_settings(instance_path, ratelimit_storage_uri=storage_uri))
    limiter = Limiter(key_func=get_remote_address)
    probes = Blueprint("limited_probe", __name__)

    @probes.post("/probe/limited")
    @limiter.limit("2 per minute")
    def limited():
        return {"ok": True}

    app.register_blueprint(probes)
    limiter.init_app(app)
    return app


def test_with_redis_down_the_limit_still_holds_and_the_fallback_is_logged_once(
    instance_path, caplog
):
    client = app_with_a_limited_route(instance_path, "redis://127.0.0.1:1/0").test_client()

    with caplog.at_level(logging.WARNING):
        statuses = [client.post("/probe/limited").status_code for _ in range(5)]

    assert statuses == [200, 200, 429, 429, 429]
    fallbacks = [r for r in caplog.records if FALLBACK_MESSAGE in r.getMessage()]
    assert len(fallbacks) == 1


def test_with_redis_up_the_limit_is_counted_there(instance_path, caplog):
    from tests.conftest import TEST_REDIS_URL

    client = app_with_a_limited_route(instance_path, TEST_REDIS_URL).test_client()

    with caplog.at_level(logging.WARNING):
        statuses = [client.post("/probe/limited").status_code for _ in range(3)]

    assert statuses[-1] == 429
    assert not [r for r in caplog.records if FALLBACK_MESSAGE in r.getMessage()]
