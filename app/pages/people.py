"""The signed-in person as the domain services expect to meet them (who acts on a page,
as an `Actor`, is `app.authz.pages.web_actor`)."""

from app.accounts.models import User
from app.authz.sessions import current_person
from app.credentials.internal_tokens import AuthUser


def signed_in() -> User:
    """The active person of this request (views are guarded by the session decorators)."""
    return current_person(active_only=True)


def as_auth_user(person: User) -> AuthUser:
    """What an internal token would say about this person, for the shared services."""
    return AuthUser(id=person.id, name=person.name, email=person.email, title=person.title)
