"""Work package endpoints, wire-compatible with GHGA work package service 10."""

from uuid import UUID

from flask import Blueprint, request

from app.authz import Actor
from app.authz.api import internal_token_required
from app.authz.levels import after_second_factor
from app.credentials.internal_tokens import AuthUser
from app.database.prepared import PreparedQuery
from app.errors import Forbidden
from app.rest import json_response, operation
from app.work_packages import actions, services
from app.work_packages.access_token import (
    checks_work_package_access_token,
    work_package_access_required,
)
from app.work_packages.queries import Package
from app.work_packages.schemas import (
    BoxList,
    CreationRequest,
    CreationResponse,
    DatasetList,
    DownloadTokenPath,
    PackagePath,
    SealedWorkOrderToken,
    UploadTokenPath,
    UploadWorkOrderRequest,
    UserPath,
    WorkPackageDetails,
)
from app.work_packages.token_issuance import TOKEN_CACHE_CONTROL
from app.work_packages.wsgi_token_layer import token_issuer

bp = Blueprint("work_packages", __name__)

TOKEN_CACHING = {"Cache-Control": TOKEN_CACHE_CONTROL}
TOKEN_HEADERS_DOC = {201: {"Cache-Control": "The token may be reused for its 30 seconds."}}


@bp.post("/work-packages")
@internal_token_required
@after_second_factor
@operation(
    "Create a work package",
    description="Download: `dataset_id`, optionally `file_ids`. Upload: "
    "`research_data_upload_box_id`. Needs a current access grant. The answer's "
    "`token` is the work package access token sealed to the given Crypt4GH key; the "
    "user's client takes `<id>:<decrypted token>`. With REQUIRE_SECOND_FACTOR the "
    "token must have been made after the second factor (403 `second_factor_required`); "
    "a download grant bound to a verification address needs it verified (403 "
    "`iva_not_verified`).",
    tags=["work packages"],
    body=CreationRequest,
    responses={201: CreationResponse, 404: None, 409: None},
)
def create_work_package(user: AuthUser, body: CreationRequest):
    created = actions.create_work_package(Actor.person(user.id, None, "api"), user, body)
    return json_response(
        CreationResponse(
            id=str(created.package.id),
            token=created.sealed_token,
            expires=created.package.expires,
        ),
        201,
    )


@bp.get("/work-packages/<work_package_id>")
@work_package_access_required
@operation(
    "Details of a work package",
    tags=["work packages"],
    path=PackagePath,
    responses={200: WorkPackageDetails},
)
def get_work_package(package: Package, work_package_id: UUID):
    return json_response(services.details(package))


# The usual way in for these two is the lean WSGI layer in wsgi_token_layer, which
# answers them before Flask; these routes document them and answer what it hands on.
@bp.post("/work-packages/<work_package_id>/files/<accession>/work-order-tokens")
@checks_work_package_access_token
@operation(
    "A work order token to download one file",
    description="The answer is a JSON string: the token sealed to the package's Crypt4GH key.",
    tags=["work packages"],
    path=DownloadTokenPath,
    responses={201: SealedWorkOrderToken},
    response_headers=TOKEN_HEADERS_DOC,
    enforce=False,
)
def create_download_token(work_package_id: str, accession: str):
    sealed = token_issuer().download(
        _in_session, request.headers.get("Authorization", ""), work_package_id, accession
    )
    return json_response(SealedWorkOrderToken(sealed), 201, TOKEN_CACHING)


@bp.post("/work-packages/<work_package_id>/boxes/<box_id>/work-order-tokens")
@checks_work_package_access_token
@operation(
    "A work order token for an upload box operation",
    description="`create` needs `alias`; `upload`, `close` and `delete` need "
    "`file_id`; `view` needs neither.",
    tags=["work packages"],
    path=UploadTokenPath,
    body=UploadWorkOrderRequest,
    responses={201: SealedWorkOrderToken},
    response_headers=TOKEN_HEADERS_DOC,
    enforce=False,
)
def create_upload_token(work_package_id: str, box_id: str):
    sealed = token_issuer().upload(
        _in_session,
        request.headers.get("Authorization", ""),
        work_package_id,
        box_id,
        request.get_data(cache=True),
    )
    return json_response(SealedWorkOrderToken(sealed), 201, TOKEN_CACHING)


def _in_session(query: PreparedQuery, **values) -> tuple | None:
    return query.first(**values)


def _same_user(user: AuthUser, user_id: UUID, what: str) -> None:
    if user.id != user_id:
        raise Forbidden(f"Not authorized to get {what}", code="other_user")


@bp.get("/users/<user_id>/datasets")
@internal_token_required
@operation(
    "Datasets the user may download, with the end of access",
    tags=["work packages"],
    path=UserPath,
    responses={200: DatasetList},
)
def user_datasets(user: AuthUser, user_id: UUID):
    _same_user(user, user_id, "datasets")
    return json_response(DatasetList(services.accessible_datasets(user_id)))


@bp.get("/users/<user_id>/boxes")
@internal_token_required
@operation(
    "Upload boxes the user may upload into, with the end of access",
    tags=["work packages"],
    path=UserPath,
    responses={200: BoxList},
)
def user_boxes(user: AuthUser, user_id: UUID):
    _same_user(user, user_id, "upload boxes")
    return json_response(BoxList(services.accessible_boxes(user_id)))
