"""Upload box changes a steward makes, once for every channel (ADR 23).

The feed appliers (`POST /events`, Kafka) call the same services inside the
feed's own transaction; this is the API's (and any later page's) way in.
"""

from uuid import UUID

from app.authz import Actor, Permission
from app.catalog import services
from app.catalog.models import UploadBox
from app.catalog.schemas import UploadBoxPayload
from app.unit_of_work import commit


def put_upload_box(actor: Actor, payload: UploadBoxPayload) -> tuple[UploadBox, bool]:
    """Register or update the box (an older version: 409); True when it is new."""
    actor.require(Permission.DATA_STEWARD)
    box, created = services.upsert_upload_box(payload)
    commit()
    return box, created


def delete_upload_box(actor: Actor, box_id: UUID) -> None:
    """The box and its work packages go together, in one transaction."""
    actor.require(Permission.DATA_STEWARD)
    services.delete_upload_box(box_id)
    commit()
