"""Flask view decorators that admit applications by permission."""

from collections.abc import Callable, Iterable
from enum import Enum
from functools import wraps

from flask import g, request

from roles.errors import PermissionDenied
from roles.keys import API_KEY_HEADER
from roles.store import ApplicationStore

PersonPermissions = Callable[[], tuple[str, frozenset]]


def make_permission_decorator(
    permissions: type[Enum],
    store: ApplicationStore,
    superuser: Enum | None = None,
    person_permissions: PersonPermissions | None = None,
) -> Callable:
    """Build `permissions_required([...])` for the host's permission enum.

    A request passes when its `Workflow-API-Key` belongs to a live application
    holding any of the listed permissions, or the `superuser` one. The caller
    is then available as `flask.g.application`. Views keep their signature.

    With `person_permissions`, people pass too: a request without an API key but
    with an `Authorization` header is handed to it, and it answers who acted and
    which permissions that person holds (the host decides how, e.g. from the
    role on their account), or raises the host's own authentication error.
    `flask.g.actor` names the caller either way: `application:<name>` or what
    `person_permissions` said; `g.application` is None for a person.
    """

    def permissions_required(required: Iterable[Enum], people: bool = True) -> Callable:
        required = frozenset(required)
        unknown = [p for p in required if not isinstance(p, permissions)]
        if unknown or not required:
            raise ValueError(f"permissions must be members of {permissions.__name__}")

        admits_people = people and person_permissions is not None

        def decorator(view: Callable) -> Callable:
            @wraps(view)
            def wrapper(*args, **kwargs):
                if admits_people and _person_request():
                    actor, held = person_permissions()
                    if superuser not in held and not (held & required):
                        raise PermissionDenied("Your role does not allow this operation")
                    g.application, g.actor = None, actor
                    return view(*args, **kwargs)
                application = store.authenticate(request.headers.get(API_KEY_HEADER))
                held = store.granted(application)
                if superuser not in held and not (held & required):
                    raise PermissionDenied("This API key lacks the permission for this operation")
                g.application, g.actor = application, f"application:{application.name}"
                return view(*args, **kwargs)

            # Read by API documentation generators.
            wrapper.required_permissions = sorted(p.name for p in required)
            wrapper.api_key_header = API_KEY_HEADER
            wrapper.admits_people = admits_people
            return wrapper

        return decorator

    return permissions_required


def _person_request() -> bool:
    return request.headers.get(API_KEY_HEADER) is None and "Authorization" in request.headers
