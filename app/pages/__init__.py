"""The pages: every page of the service lives in this room (ADR 23).

Blueprints made with `web_blueprint` (CSRF on every form, errors as pages):
`portal` (one module per audience: home, researcher, steward, admin, profile),
`identity` (sign-in, sign_in.py), `admin` (/admin/users, admin_users.py) and
`second_factor` (the factor, the addresses and the notices). Views parse, call
the domains' actions and services, and render; they hold no rules of their own.
"""

from datetime import UTC, datetime

from flask import Flask

from app.web import web_blueprint

bp = web_blueprint("portal", __name__)


@bp.context_processor
def _clock():
    return {"now_utc": lambda: datetime.now(UTC)}


# Importing the modules registers their views on `bp`.
from app.pages import admin, home, profile, researcher, steward  # noqa: E402, F401


def register_pages(app: Flask) -> None:
    from app.pages.admin_users import bp as admin_users
    from app.pages.factor import factor_step
    from app.pages.second_factor import bp as second_factor
    from app.pages.sign_in import bp as sign_in

    for blueprint in (sign_in, admin_users, second_factor, bp):
        app.register_blueprint(blueprint)
    app.context_processor(lambda: {"factor_step": factor_step})
