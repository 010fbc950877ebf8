"""Signed URLs of the local backend: GET objects (with Range) and PUT upload parts."""

import re
from uuid import UUID

from flask import Blueprint, Response, current_app, request, send_file
from werkzeug.wsgi import FileWrapper

from app.errors import DomainError, Forbidden, NotFound, body_limit
from app.extensions import db
from app.storage import object_store
from app.storage.local import CHUNK, LocalStore, PartTooLarge, read_extent
from app.storage.signals import part_arriving
from app.storage.signed_urls import signature_is_valid

bp = Blueprint("storage", __name__, url_prefix="/storage")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(DomainError):
    """The requested range is outside the object."""

    status, code = 416, "range_not_satisfiable"

    def __init__(self, size: int):
        super().__init__(f"The object has {size} bytes")
        self.size = size

    def headers(self) -> dict:
        return {"Content-Range": f"bytes */{self.size}"}


class OversizedPart(DomainError):
    """The part is larger than the upload's part size allows."""

    status, code = 400, "part_too_large"


def _local_store(alias: str) -> LocalStore:
    store = object_store()
    if not isinstance(store, LocalStore) or store.alias != alias:
        raise NotFound("No such storage")
    return store


def _check_signature(method: str) -> None:
    secret = current_app.config["SECRET_KEY"]
    args = request.args
    if not signature_is_valid(
        secret,
        method,
        request.path,
        args.get("expires"),
        args.get("signature"),
        args.get("max_bytes"),
    ):
        raise Forbidden("The URL signature is invalid or has expired", code="invalid_signature")


@bp.get("/<alias>/objects/<object_key>")
def get_object(alias: str, object_key: str):
    """Serve an object, or the requested byte range of it, as a stream."""
    _check_signature("GET")
    extent = _local_store(alias).object_extent(object_key)
    if extent is None:
        raise NotFound("No such object")
    size, files, offset = extent
    start, end = _byte_range(request.headers.get("Range"), size)
    if len(files) == 1 and offset == 0:
        # A single file: Werkzeug serves the range, with sendfile where the server can.
        _read_in_large_blocks(request.environ)
        return send_file(
            files[0][0],
            mimetype="application/octet-stream",
            conditional=True,
            etag=False,
            max_age=0,
        )
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1)}
    status = 200
    if request.headers.get("Range"):
        status, headers["Content-Range"] = 206, f"bytes {start}-{end}/{size}"
    body = read_extent(files, offset, start, end)
    return Response(body, status=status, headers=headers, mimetype="application/octet-stream")


def _refuse_beyond_box_limit(upload_key: str) -> None:
    """Ask transfer whether the part may arrive: 507 when its box no longer has room."""
    try:
        file_id = UUID(upload_key)
    except ValueError:
        return  # not an upload of the transfer API; receive_part answers 404
    part_arriving.send(file_id)


def _read_in_large_blocks(environ: dict) -> None:
    """Without a file wrapper of the server's own (granian has none), read 1 MiB at a time.

    Werkzeug's fallback reads 8 KiB per iteration, each one a hand-off to the
    server; the bench compares the download with nginx serving the same file.
    """
    environ.setdefault(
        "wsgi.file_wrapper",
        lambda file, buffer_size=CHUNK: FileWrapper(file, max(buffer_size, CHUNK)),
    )


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """Inclusive (start, end) of a single `bytes=` range; the whole object without one."""
    if not header:
        return 0, size - 1
    match = _RANGE.match(header.strip())
    if not match or not (match.group(1) or match.group(2)):
        raise RangeNotSatisfiable(size)
    first, last = match.group(1), match.group(2)
    if first:
        start, end = int(first), int(last) if last else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(size - int(last), 0), size - 1
    end = min(end, size - 1)
    if start > end or start >= size:
        raise RangeNotSatisfiable(size)
    return start, end


@bp.put("/<alias>/uploads/<upload_key>/parts/<int:part_number>")
@body_limit("upload_part_max_bytes")
def put_part(alias: str, upload_key: str, part_number: int):
    """Store one part as it streams in; answers exactly 200 with no body."""
    _check_signature("PUT")
    max_bytes = request.args.get("max_bytes", type=int)
    if max_bytes is not None and (request.content_length or 0) > max_bytes:
        raise OversizedPart(f"This part may hold at most {max_bytes} bytes")
    _refuse_beyond_box_limit(upload_key)
    # The check only read; end its transaction so that no pooled connection waits,
    # idle in a transaction, while a part of up to gigabytes streams in.
    db.session.rollback()
    try:
        _local_store(alias).receive_part(upload_key, part_number, request.stream, max_bytes)
    except FileNotFoundError:
        raise NotFound("No such upload") from None
    except PartTooLarge as error:
        raise OversizedPart(str(error)) from None
    return Response(status=200)
