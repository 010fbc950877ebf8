"""The signed-in person as the domain services expect to meet them."""

from app.accounts.models import User
from app.auth.internal_tokens import AuthUser
from app.authz import Actor
from app.second_factor.levels import session_fully_authenticated
from app.web.session import current_person, person_role


def signed_in() -> User:
    """The active person of this request (views are guarded by the session decorators)."""
    return current_person(active_only=True)


def as_auth_user(person: User) -> AuthUser:
    """What an internal token would say about this person, for the shared services."""
    return AuthUser(id=person.id, name=person.name, email=person.email, title=person.title)


def actor(person: User) -> str:
    """How records name a person acting on a page (the same form as the JSON API's)."""
    return f"user:{person.id}"


def web_actor(person: User) -> Actor:
    """The person acting on a page: their role's rights count once the second factor
    is passed in this session (the page decorators ask for it where a role acts)."""
    return Actor.person(person.id, person_role(person), "web", full=session_fully_authenticated())
