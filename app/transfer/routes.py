"""The download and upload controllers, at `/download` and `/upload`."""

from uuid import UUID

from flask import Blueprint, Response, current_app

from app.authz import Permission
from app.authz.api import permissions_required
from app.catalog import services as catalog
from app.catalog.schemas import UploadBoxPath
from app.rest import json_response, operation
from app.storage import object_store
from app.transfer import actions, services
from app.transfer.schemas import (
    AccessMethod,
    AccessUrl,
    BoxPath,
    Checksum,
    ControllerHealth,
    DrsObject,
    Envelope,
    ListingQuery,
    ObjectPath,
    PartPath,
    PartUploadUrl,
    StewardUploadPage,
    StewardUploadView,
    UploadClosure,
    UploadCreated,
    UploadCreation,
    UploadListing,
    UploadListItem,
    UploadPath,
)
from app.transfer.work_orders import work_order_required

download = Blueprint("download", __name__, url_prefix="/download")
upload = Blueprint("upload", __name__, url_prefix="/upload")
stewardship = Blueprint("uploads", __name__)


@download.get("/health")
@operation("Is the download controller up?", tags=["download"], responses={200: ControllerHealth})
def download_health():
    return json_response(ControllerHealth(status="OK"))


@download.get("/objects/<accession>")
@work_order_required("download")
@operation(
    "DRS object of a file, with a signed download URL",
    description="`size` is the byte length of the encrypted data segments behind the URL; "
    "the URL honours HTTP Range. 202 with `Retry-After` while an upload is being verified.",
    tags=["download"],
    path=ObjectPath,
    responses={200: DrsObject, 202: None, 404: None},
    response_headers={202: {"Retry-After": "Seconds to wait before asking again."}},
)
def drs_object(claims: dict, accession: str):
    stored = services.stored_file_for(claims, accession)
    if stored is None:
        return Response(status=202, headers={"Retry-After": str(services.STAGING_RETRY_SECONDS)})
    base = str(current_app.extensions["settings"].public_base_url).rstrip("/")
    host = base.split("://", 1)[-1]
    return json_response(
        DrsObject(
            id=accession,
            self_uri=f"drs://{host}/{accession}",
            size=stored.content_size,
            created_time=stored.created_at,
            checksums=[Checksum(checksum=stored.decrypted_sha256, type="sha-256")],
            access_methods=[
                AccessMethod(
                    type="s3",
                    access_url=AccessUrl(url=object_store().download_url(stored.object_key)),
                )
            ],
        )
    )


@download.get("/objects/<accession>/envelopes")
@work_order_required("download")
@operation(
    "Crypt4GH envelope of a file for the token's user",
    description="Plain text: a base64 Crypt4GH header carrying the file's data key, "
    "encrypted to the public key in the work order token.",
    tags=["download"],
    path=ObjectPath,
    responses={200: Envelope, 404: None},
)
def envelope(claims: dict, accession: str):
    stored = services.stored_file_for(claims, accession)
    if stored is None:
        raise services.ObjectNotFound(f"{accession} is still being verified")
    text = services.envelope_for(stored, claims["user_public_crypt4gh_key"])
    return Response(text, mimetype="text/plain")


@upload.get("/health")
@operation("Is the upload controller up?", tags=["upload"], responses={200: ControllerHealth})
def upload_health():
    return json_response(ControllerHealth(status="OK"))


@upload.get("/boxes/<box_id>/uploads")
@work_order_required("view")
@operation(
    "Uploads in a file upload box",
    tags=["upload"],
    path=BoxPath,
    query=ListingQuery,
    responses={200: UploadListing},
)
def list_uploads(claims: dict, box_id: UUID, query: ListingQuery):
    items, total = services.list_uploads(
        claims, box_id, query.skip, query.limit, query.sort_fields()
    )
    return json_response(
        UploadListing(
            items=[UploadListItem.of(u, query.with_checksums) for u in items],
            total_count=total,
        )
    )


@upload.post("/boxes/<box_id>/uploads")
@work_order_required("create")
@operation(
    "Start a file upload",
    description="One live upload per alias: 409 `fileUploadAlreadyExists`, unless "
    "`overwrite` and the existing upload is not yet verified. 429 `tooManyOpenUploads` "
    "when the box has `MAX_CONCURRENT_UPLOADS_PER_BOX` uploads open; 507 "
    "`boxMaxSizeExceeded` when the file's decrypted size does not fit the box's "
    "`max_size` (GHGA's upload controller 15).",
    tags=["upload"],
    path=BoxPath,
    body=UploadCreation,
    responses={201: UploadCreated, 400: None, 404: None, 409: None, 429: None, 507: None},
)
def create_upload(claims: dict, box_id: UUID, body: UploadCreation):
    created = actions.create_upload(claims, box_id, body)
    return json_response(
        UploadCreated(file_id=created.id, alias=created.alias, storage_alias=created.storage_alias),
        201,
    )


@upload.get("/boxes/<box_id>/uploads/<file_id>/parts/<part_number>")
@work_order_required("upload")
@operation(
    "A signed URL for uploading one part",
    description="A JSON string: `PUT` the part's bytes to it; it answers 200. 507 "
    "`boxMaxSizeExceeded` when the box's `max_size` was lowered below what it holds.",
    tags=["upload"],
    path=PartPath,
    responses={200: PartUploadUrl, 404: None, 409: None, 507: None},
)
def part_url(claims: dict, box_id: UUID, file_id: UUID, part_number: int):
    url = services.part_upload_url(claims, box_id, file_id, part_number)
    return json_response(PartUploadUrl(url))


@upload.patch("/boxes/<box_id>/uploads/<file_id>")
@work_order_required("close")
@operation(
    "Close an upload",
    description="The parts are checked against the given checksums at once (400 "
    "`checksumMismatch`); a worker then decrypts the file and checks `decrypted_sha256`.",
    tags=["upload"],
    path=UploadPath,
    body=UploadClosure,
    responses={204: None, 400: None, 404: None, 409: None},
)
def close_upload(claims: dict, box_id: UUID, file_id: UUID, body: UploadClosure):
    actions.close_upload(claims, box_id, file_id, body)
    return "", 204


@upload.delete("/boxes/<box_id>/uploads/<file_id>")
@work_order_required("delete")
@operation(
    "Cancel or remove an upload",
    tags=["upload"],
    path=UploadPath,
    responses={204: None, 404: None},
)
def delete_upload(claims: dict, box_id: UUID, file_id: UUID):
    actions.delete_upload(claims, box_id, file_id)
    return "", 204


@stewardship.get("/upload-boxes/<box_id>/uploads")
@permissions_required([Permission.DATA_STEWARD])
@operation(
    "Uploads in a research data upload box, with their file ids and states",
    description="A completed upload's `file_id` is what an accession map points to.",
    tags=["catalog"],
    path=UploadBoxPath,
    query=ListingQuery,
    responses={200: StewardUploadPage},
)
def steward_uploads(box_id: UUID, query: ListingQuery):
    box = catalog.get_upload_box(box_id)
    items, total = services.box_uploads(box, query.skip, query.limit, query.sort_fields())
    return json_response(
        StewardUploadPage(
            items=[StewardUploadView.of(upload, query.with_checksums) for upload in items],
            total_count=total,
        )
    )
