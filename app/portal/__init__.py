"""The portal: the pages researchers, stewards and admins use.

One blueprint, `portal`, made with `web_blueprint` (CSRF on every form, errors
as pages). Its views live in one module per audience and call the domains'
services; they hold no rules of their own.
"""

from datetime import UTC, datetime

from app.web import web_blueprint

bp = web_blueprint("portal", __name__)


@bp.context_processor
def _clock():
    return {"now_utc": lambda: datetime.now(UTC)}


# Importing the modules registers their views on `bp`.
from app.portal import admin, home, profile, researcher, steward  # noqa: E402, F401
