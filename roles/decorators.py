"""Flask view decorators that admit applications by permission."""

from collections.abc import Callable, Iterable
from enum import Enum
from functools import wraps

from flask import g, request

from roles.errors import PermissionDenied
from roles.keys import API_KEY_HEADER
from roles.store import ApplicationStore


def make_permission_decorator(
    permissions: type[Enum],
    store: ApplicationStore,
    superuser: Enum | None = None,
) -> Callable:
    """Build `permissions_required([...])` for the host's permission enum.

    A request passes when its `Workflow-API-Key` belongs to a live application
    holding any of the listed permissions, or the `superuser` one. The caller
    is then available as `flask.g.application`. Views keep their signature.
    """

    def permissions_required(required: Iterable[Enum]) -> Callable:
        required = frozenset(required)
        unknown = [p for p in required if not isinstance(p, permissions)]
        if unknown or not required:
            raise ValueError(f"permissions must be members of {permissions.__name__}")
        accepted = required | ({superuser} if superuser is not None else set())

        def decorator(view: Callable) -> Callable:
            @wraps(view)
            def wrapper(*args, **kwargs):
                application = store.authenticate(request.headers.get(API_KEY_HEADER))
                held = store.granted(application)
                if superuser not in held and not (held & required):
                    raise PermissionDenied.lacking(accepted, held)
                g.application = application
                return view(*args, **kwargs)

            # Read by API documentation generators.
            wrapper.required_permissions = sorted(p.name for p in required)
            wrapper.api_key_header = API_KEY_HEADER
            return wrapper

        return decorator

    return permissions_required
