"""Issuing work order tokens: from a bearer WPAT and a request path to a sealed token.

One statement per token loads the package, its grant and the requested file.
The checks run in the order the protocol answers them: credential (401), package
id (422), access (403), the rest of the path and the body (422), what the
package allows (403). Nothing here needs a Flask context: the lean endpoints
(`app.work_packages.wsgi_token_layer`) and the Flask routes both call it, each
with their own way of running the statement.
"""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from pydantic import ValidationError

from app.access.policy import AccessPolicy
from app.credentials.bearer import credential_of
from app.credentials.keys import TokenKeys
from app.credentials.work_order_tokens import WORK_ORDER_TOKEN_VALID_SECONDS
from app.database import utc_now
from app.errors import RequestValidationFailed
from app.rest.operation import validate_body
from app.work_packages import queries, services
from app.work_packages.schemas import (
    DownloadTokenPath,
    PackagePath,
    UploadTokenPath,
    UploadWorkOrderRequest,
)

TOKEN_CACHE_CONTROL = f"max-age={WORK_ORDER_TOKEN_VALID_SECONDS}, private"

#: Runs a prepared query with keyword values and returns its first row (or None).
RunQuery = Callable[..., tuple | None]


@dataclass(frozen=True)
class TokenIssuer:
    keys: TokenKeys
    policy: AccessPolicy
    #: Called with the work type of every token issued (metrics).
    count_issued: Callable[[str], None]

    def download(self, run: RunQuery, authorization: str, package_id: str, accession: str) -> str:
        access_token = credential_of(authorization)
        package_uuid, path, path_error = _validated_path(
            DownloadTokenPath, work_package_id=package_id, accession=accession
        )
        # A malformed accession is refused after the access checks; it is not asked for.
        wanted = None if path_error else path.accession
        loaded, package = self._authorized(run, "download", access_token, package_uuid, wanted)
        if path_error:
            raise path_error
        claims = services.download_claims(package, path.accession, loaded.file)
        return self._issued(claims, package)

    def upload(
        self, run: RunQuery, authorization: str, package_id: str, box_id: str, body: bytes
    ) -> str:
        access_token = credential_of(authorization)
        package_uuid, path, path_error = _validated_path(
            UploadTokenPath, work_package_id=package_id, box_id=box_id
        )
        _, package = self._authorized(run, "upload", access_token, package_uuid, None)
        if path_error:
            raise path_error
        request = validate_body(UploadWorkOrderRequest, body)
        claims = services.upload_claims(package, path.box_id, request)
        return self._issued(claims, package)

    def _authorized(self, run: RunQuery, kind: str, access_token: str, package_id: UUID, accession):
        """The loaded package, if the token opens it; one statement unless its type is wrong."""
        now = utc_now()
        values = {"package_id": package_id, "accession": accession, "now": now}
        loaded = queries.loaded_package(
            run(queries.token_request_query(kind, self.policy.local), **values)
        )
        if loaded is not None and loaded.package.type != kind:
            # The checks of the other type apply: ask again (a request bound to be refused).
            query = queries.token_request_query("any", self.policy.local)
            loaded = queries.loaded_package(run(query, **values))
        return loaded, services.check_access(loaded, access_token, now, self.policy)

    def _issued(self, claims: dict, package: queries.Package) -> str:
        sealed = services.sealed_work_order(claims, package, self.keys)
        self.count_issued(claims["work_type"])
        return sealed


def _validated_path(model: type[PackagePath], **values):
    """(package id, path, None), or (package id, None, the 422 to raise after the access checks).

    A malformed package id is refused at once, before the database is asked.
    """
    try:
        path = model.model_validate(values)
    except ValidationError as error:
        failed = RequestValidationFailed.from_pydantic(error, "path")
    else:
        return path.work_package_id, path, None
    package_id_errors = [item for item in failed.detail if item["loc"][1] == "work_package_id"]
    if package_id_errors:
        raise RequestValidationFailed(package_id_errors)
    return PackagePath.model_validate(values).work_package_id, None, failed
