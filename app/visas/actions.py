"""Reading a person's visas: the person themself, or an application holding VISA_READER."""

from uuid import UUID

from app.audit_log import record
from app.authz import Actor, Permission
from app.authz.errors import SecondFactorRequired
from app.errors import Forbidden
from app.unit_of_work import commit
from app.visas import services


def visas_of(actor: Actor, user_id: UUID) -> list[str]:
    """One signed visa per live download grant of the person; revoked grants give none."""
    if actor.is_person(user_id):
        if not actor.fully_authenticated:
            raise SecondFactorRequired(
                "This needs a token made after your second factor: create an API token in "
                "the portal after entering your code"
            )
    elif actor.user_id is not None or not actor.holds(Permission.VISA_READER):
        raise Forbidden(
            "Only the person themself, or an application key with VISA_READER, reads visas",
            code="visa_reader_required",
        )
    grants = services.live_grants(user_id)
    visas = [services.visa_of(grant) for grant in grants]
    record(actor, "visas_issued", f"user={user_id} grants={','.join(str(g.id) for g in grants)}")
    commit()
    return visas
