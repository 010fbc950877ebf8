"""Steward endpoints for the catalog (`Workflow-API-Key` with DATA_STEWARD)."""

from uuid import UUID

from flask import Blueprint, g

from app.authz import Permission
from app.authz.api import permissions_required
from app.catalog import actions, services
from app.catalog.schemas import (
    AccessionMapPayload,
    AccessionMapView,
    AccessionPath,
    DatasetFilePage,
    DatasetFileView,
    DatasetPage,
    DatasetPath,
    DatasetPayload,
    DatasetSummary,
    DatasetView,
    UploadBoxPage,
    UploadBoxPath,
    UploadBoxPayload,
    UploadBoxView,
)
from app.errors import RequestValidationFailed
from app.rest import PageQuery, json_response, operation

bp = Blueprint("catalog", __name__)
steward_only = permissions_required([Permission.DATA_STEWARD])


def _same_id_in_path_and_body(path_value, body_value, field: str) -> None:
    if path_value != body_value:
        raise RequestValidationFailed(
            [
                {
                    "loc": ["body", field],
                    "msg": f"must equal the {field} in the path",
                    "type": "value_error",
                }
            ]
        )


@bp.put("/datasets/<accession>")
@steward_only
@operation(
    "Register or replace a dataset",
    description="Body: the `dataset_upserted` event payload. The file list replaces "
    "the stored one.",
    tags=["catalog"],
    path=DatasetPath,
    body=DatasetPayload,
    responses={200: DatasetView, 201: DatasetView},
)
def put_dataset(accession: str, body: DatasetPayload):
    _same_id_in_path_and_body(accession, body.accession, "accession")
    dataset, created = actions.put_dataset(g.actor, body)
    return json_response(DatasetView.of(dataset), 201 if created else 200)


@bp.get("/datasets/<accession>")
@steward_only
@operation(
    "A dataset with its files",
    description="Every file of the dataset; `/datasets/{accession}/files` pages them.",
    tags=["catalog"],
    path=DatasetPath,
    responses={200: DatasetView},
)
def get_dataset(accession: str):
    return json_response(DatasetView.of(services.get_dataset(accession)))


@bp.get("/datasets/<accession>/files")
@steward_only
@operation(
    "A dataset's files, in the dataset's order",
    tags=["catalog"],
    path=DatasetPath,
    query=PageQuery,
    responses={200: DatasetFilePage},
)
def list_dataset_files(accession: str, query: PageQuery):
    items, total = services.list_dataset_files(accession, query.skip, query.limit)
    return json_response(
        DatasetFilePage(items=[DatasetFileView.of(f) for f in items], total_count=total)
    )


@bp.delete("/datasets/<accession>")
@steward_only
@operation(
    "Delete a dataset",
    description="No new work order tokens are issued for its files afterwards.",
    tags=["catalog"],
    path=DatasetPath,
    responses={204: None},
)
def delete_dataset(accession: str):
    actions.delete_dataset(g.actor, accession)
    return "", 204


@bp.get("/datasets")
@steward_only
@operation(
    "Datasets, by accession, with their file counts",
    description="Files are not listed here: `/datasets/{accession}/files` pages them.",
    tags=["catalog"],
    query=PageQuery,
    responses={200: DatasetPage},
)
def list_datasets(query: PageQuery):
    items, total = services.list_datasets(query.skip, query.limit)
    return json_response(
        DatasetPage(items=[DatasetSummary.of(d, count) for d, count in items], total_count=total)
    )


@bp.put("/upload-boxes/<box_id>")
@steward_only
@operation(
    "Register or update an upload box",
    description="Body: the upload box `upserted` event payload (ghga-event-schemas 13: "
    "`max_size` in bytes; absent means no limit). An older `version` than the stored "
    "one is refused with 409 `stale_version`.",
    tags=["catalog"],
    path=UploadBoxPath,
    body=UploadBoxPayload,
    responses={200: UploadBoxView, 201: UploadBoxView, 409: None},
)
def put_upload_box(box_id: UUID, body: UploadBoxPayload):
    _same_id_in_path_and_body(box_id, body.id, "id")
    box, created = actions.put_upload_box(g.actor, body)
    return json_response(UploadBoxView.of(box), 201 if created else 200)


@bp.get("/upload-boxes/<box_id>")
@steward_only
@operation("An upload box", tags=["catalog"], path=UploadBoxPath, responses={200: UploadBoxView})
def get_upload_box(box_id: UUID):
    return json_response(UploadBoxView.of(services.get_upload_box(box_id)))


@bp.delete("/upload-boxes/<box_id>")
@steward_only
@operation(
    "Delete an upload box and its work packages",
    description="As in GHGA's WPS 11.1, every work package for the box is deleted with "
    "it: their work order token requests are refused like those of unknown packages.",
    tags=["catalog"],
    path=UploadBoxPath,
    responses={204: None},
)
def delete_upload_box(box_id: UUID):
    actions.delete_upload_box(g.actor, box_id)
    return "", 204


@bp.get("/upload-boxes")
@steward_only
@operation(
    "Upload boxes, by title", tags=["catalog"], query=PageQuery, responses={200: UploadBoxPage}
)
def list_upload_boxes(query: PageQuery):
    items, total = services.list_upload_boxes(query.skip, query.limit)
    return json_response(
        UploadBoxPage(items=[UploadBoxView.of(b) for b in items], total_count=total)
    )


@bp.put("/accession-maps/<accession>")
@steward_only
@operation(
    "Map a file accession to a stored file id",
    tags=["catalog"],
    path=AccessionPath,
    body=AccessionMapPayload,
    responses={200: AccessionMapView, 201: AccessionMapView},
)
def put_accession_map(accession: str, body: AccessionMapPayload):
    mapping, created = actions.put_accession_map(g.actor, accession, body.file_id)
    return json_response(
        AccessionMapView(accession=mapping.accession, file_id=mapping.file_id),
        201 if created else 200,
    )


@bp.get("/accession-maps/<accession>")
@steward_only
@operation(
    "The file id an accession maps to",
    tags=["catalog"],
    path=AccessionPath,
    responses={200: AccessionMapView},
)
def get_accession_map(accession: str):
    mapping = services.get_accession_map(accession)
    return json_response(AccessionMapView(accession=mapping.accession, file_id=mapping.file_id))


@bp.delete("/accession-maps/<accession>")
@steward_only
@operation(
    "Remove an accession mapping", tags=["catalog"], path=AccessionPath, responses={204: None}
)
def delete_accession_map(accession: str):
    actions.delete_accession_map(g.actor, accession)
    return "", 204
