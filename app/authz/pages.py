"""The pages' door: who acts in this browser session (`web_actor`), and the decorators.

A person's role counts once the session passed the second factor. A page that needs
a permission declares it (`page_requires`); the navigation shows a link when the
signed-in person's role holds the permission of the page it leads to, so both read
the one table in app/authz/permissions.py.
"""

from collections.abc import Callable
from functools import wraps

from flask import current_app, redirect, request, url_for

from app.authz.accounts import Account
from app.authz.actor import Actor
from app.authz.errors import SecondFactorRequired
from app.authz.levels import session_fully_authenticated
from app.authz.permissions import ROLE_PERMISSIONS, Permission, roles_holding
from app.authz.sessions import current_person, login_url
from app.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD"})


def web_actor(person: Account | None = None) -> Actor:
    """The person acting on a page (by default the signed-in one): their role's rights
    count once the second factor is passed in this session (`withheld` until then)."""
    person = person or current_person()
    return Actor.person(
        person.id,
        person.role,
        "web",
        full=session_fully_authenticated(),
        active=person.is_active,
    )


def person_required(view: Callable) -> Callable:
    """A signed-in, active person; anonymous browsers go to the sign-in page.

    A signed-in person who is not active (pending, rejected, disabled) is sent to
    the page that explains their status.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        person = current_person()
        if person is None:
            return redirect(login_url(request.full_path.rstrip("?")))
        if not person.is_active:
            return redirect(url_for("identity.status"))
        return view(*args, **kwargs)

    return wrapper


def page_requires(*permissions: Permission) -> Callable:
    """A fully authenticated, active person whose role holds one of `permissions`.

    Anonymous browsers go to the sign-in page; every other signed-in person (pending
    ones too) gets a 403 page. A holder of the role without the second factor is
    asked for it (see `fully_authenticated`).
    """
    needed = frozenset(permissions)
    if not needed:
        raise ValueError("a page needs at least one permission")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            person = current_person()
            if person is None:
                return redirect(login_url(request.full_path.rstrip("?")))
            # A pending person is signed in but holds nothing yet: refused, not redirected.
            if not any(map(web_actor(person).entitled_to, needed)):
                raise Forbidden(_for_whom(needed), code="role_required")
            return _second_factor_gate() or view(*args, **kwargs)

        # Read by the navigation: a link to this page shows to whom it opens.
        wrapper.page_permissions = needed
        return wrapper

    return decorator


def fully_authenticated(view: Callable) -> Callable:
    """An active person who has also passed the second factor in this session.

    Within SECOND_FACTOR_MAX_AGE of passing it; a page asked for by GET sends the
    person to the second-factor page and back (`next=`), a form sent without it
    is refused (403) so that nothing is done behind the person's back. With
    REQUIRE_SECOND_FACTOR=false every active person passes.
    """

    @person_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        return _second_factor_gate() or view(*args, **kwargs)

    return wrapper


def opens_for(actor: Actor, endpoint: str) -> bool:
    """Whether the page at `endpoint` opens for `actor` (counting the second factor it
    would ask for); pages without `page_requires` open for every active person."""
    needed = getattr(current_app.view_functions[endpoint], "page_permissions", frozenset())
    return not needed or any(map(actor.entitled_to, needed))


def _for_whom(needed: frozenset[Permission]) -> str:
    roles = [role for role in ROLE_PERMISSIONS if any(role in roles_holding(p) for p in needed)]
    return "This page is for " + " or ".join(f"{role}s" for role in roles) + "."


def _second_factor_gate():
    """None when the session is fully authenticated; else a redirect, or a 403 for forms."""
    if session_fully_authenticated():
        return None
    if request.method in SAFE_METHODS:
        return redirect(url_for("second_factor.verify", next=request.full_path.rstrip("?")))
    require_second_factor()


def require_second_factor() -> None:
    """Refuse (403) a form sent before the second factor was passed in this session; a
    page that keeps what was typed catches it and shows the form again."""
    if not session_fully_authenticated():
        raise SecondFactorRequired(
            "This needs your second factor in this session, so nothing was changed. "
            "Pass it with the link on this page; it brings you back here."
        )
