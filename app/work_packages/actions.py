"""Creating a work package, written once for the JSON API and the portal (ADR 23).

The WOT/WPAT token endpoints are not actions: they are the hot path answered
before Flask (app/work_packages/wsgi_token_layer.py) and keep their own boundary.
"""

from app.authz import Actor
from app.credentials.internal_tokens import AuthUser
from app.errors import Forbidden
from app.unit_of_work import commit
from app.work_packages import services
from app.work_packages.schemas import CreationRequest


def create_work_package(
    actor: Actor, owner: AuthUser, request: CreationRequest
) -> services.Created:
    """A package for `owner`, who must be the person acting: it needs their own grant,
    and its token is sealed to their key. The grant is the right; no permission is."""
    if not actor.is_person(owner.id):
        raise Forbidden("Only the person themself creates their work packages", code="other_user")
    created = services.create_work_package(owner, request)
    commit()
    return created
