"""An uploader's steps, once for every channel (ADR 23).

The right to act is the work order token: `work_order_required` verified it and
the services check that its claims name this box and file. Each step commits its
change before anything waits for it (the verification task looks for the closed
upload, so it is enqueued only after the commit).
"""

from uuid import UUID

from flask import current_app

from app.transfer import services
from app.transfer.dispatch import enqueue_verification
from app.transfer.schemas import UploadClosure, UploadCreation
from app.unit_of_work import after_commit, commit


def create_upload(claims: dict, box_id: UUID, creation: UploadCreation):
    """Start the upload within the box's limits; the new upload's row."""
    settings = current_app.extensions["settings"]
    created = services.create_upload(
        claims,
        box_id,
        creation,
        settings.upload_part_max_bytes,
        settings.max_concurrent_uploads_per_box,
    )
    commit()
    return created


def close_upload(claims: dict, box_id: UUID, file_id: UUID, closure: UploadClosure) -> None:
    """Complete the upload; its checksum is verified by a worker afterwards."""
    if services.close_upload(claims, box_id, file_id, closure):
        after_commit(enqueue_verification, file_id)
    commit()


def delete_upload(claims: dict, box_id: UUID, file_id: UUID) -> None:
    services.delete_upload(claims, box_id, file_id)
    commit()
