"""Extension objects, created without an application and bound in create_app."""

from functools import wraps

from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate

# The database session belongs to the database room; every room imports it from here.
from app.database import db

__all__ = ["cors", "db", "limiter", "limits_checked", "migrate"]

migrate = Migrate()
cors = CORS()
# No global check before every request: only the routes that declare a limit pay
# for it (`@limits_checked` below `@limiter.limit`), see docs/adr/0016. Limits are
# per client address: `remote_addr`, which is the proxy-reported client only with
# TRUSTED_PROXY_HOPS set (ProxyFix in create_app), see docs/adr/0022.
limiter = Limiter(key_func=get_remote_address, default_limits=[], auto_check=False)


def limits_checked(view):
    """Check the rate limits declared on `view` (`@limiter.limit`) before it runs."""

    @wraps(view)
    def checked(*args, **kwargs):
        limiter.check()
        return view(*args, **kwargs)

    return checked
