"""Extension objects, created without an application and bound in create_app."""

from functools import wraps

from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from app.database import Base

# Responses are serialised after the commit; expiring would reload every object.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
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
