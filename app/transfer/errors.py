"""Transfer errors carry `exception_id` and `description`, which ghga-connector reads."""

from app.errors import DomainError


class TransferError(DomainError):
    exception_id = "transferError"

    def __init__(self, detail: str, *, data: dict | None = None):
        super().__init__(detail)
        self.data = data or {}

    def body(self) -> dict:
        return {
            "detail": self.detail,
            "code": self.code,
            "exception_id": self.exception_id,
            "description": self.detail,
            "data": self.data,
        }


def _error(name: str, status: int, exception_id: str, code: str) -> type[TransferError]:
    return type(
        name, (TransferError,), {"status": status, "exception_id": exception_id, "code": code}
    )


MissingWorkOrderToken = _error("MissingWorkOrderToken", 401, "wotMissing", "not_authenticated")
InvalidWorkOrderToken = _error(
    "InvalidWorkOrderToken", 403, "wotValidationError", "invalid_work_order_token"
)
BoxNotFound = _error("BoxNotFound", 404, "boxNotFound", "box_not_found")
BoxNotOpen = _error("BoxNotOpen", 409, "boxStateError", "box_not_open")
UploadAlreadyExists = _error("UploadAlreadyExists", 409, "fileUploadAlreadyExists", "upload_exists")
UploadNotFound = _error("UploadNotFound", 404, "fileUploadNotFound", "upload_not_found")
UploadStateError = _error("UploadStateError", 409, "fileUploadStateError", "upload_state")
ChecksumMismatch = _error("ChecksumMismatch", 400, "checksumMismatch", "checksum_mismatch")
InvalidPartSize = _error("InvalidPartSize", 400, "invalidPartSize", "invalid_part_size")
ObjectNotFound = _error("ObjectNotFound", 404, "noSuchObject", "object_not_found")
BoxMaxSizeExceeded = _error("BoxMaxSizeExceeded", 507, "boxMaxSizeExceeded", "box_full")
TooManyOpenUploads = _error(
    "TooManyOpenUploads", 429, "tooManyOpenUploads", "too_many_open_uploads"
)
