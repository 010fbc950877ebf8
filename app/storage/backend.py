"""What the transfer domain needs from an object store."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class PartRecord:
    number: int
    size: int
    md5: str
    #: Known when this service received the bytes itself (local backend).
    sha256: str | None


class ObjectStore(Protocol):
    alias: str

    def begin_upload(self, upload_key: str) -> str:
        """Prepare a multipart upload; returns the store's upload id."""

    def part_upload_url(
        self, upload_key: str, upload_id: str, part_number: int, max_bytes: int
    ) -> str:
        """A URL that accepts `PUT` of one part of at most `max_bytes`."""

    def uploaded_parts(self, upload_key: str, upload_id: str) -> list[PartRecord]:
        """The parts received so far, by number."""

    def open_upload(self, upload_key: str, upload_id: str) -> BinaryIO:
        """The uploaded bytes, parts in order, as one readable stream."""

    def discard_upload(self, upload_key: str, upload_id: str) -> None:
        """Forget the upload's parts."""

    def write_object(self, object_key: str, chunks: Iterator[bytes]) -> int:
        """Store an object from chunks; returns its size."""

    def keep_upload(
        self,
        upload_key: str,
        upload_id: str,
        object_key: str,
        offset: int,
        content: Iterator[bytes],
    ) -> int:
        """Make the upload, past its first `offset` bytes, the object; returns its size.

        `content` yields those same bytes and must be consumed (the caller checks them
        on the way); a backend may store them, or keep the uploaded bytes in place.
        """

    def read_object(self, object_key: str) -> Iterator[bytes]:
        """The object's bytes in chunks (FileNotFoundError when there is none); what the
        service streams itself (DRS: a person's header, then these)."""

    def download_url(self, object_key: str) -> str:
        """A URL serving the object with HTTP Range."""

    def delete_object(self, object_key: str) -> None: ...
