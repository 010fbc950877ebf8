"""The local filesystem backend: objects and upload parts under one folder.

Its signed URLs point at this service's own `/storage/...` endpoints. Bytes are
streamed in chunks both ways, so no file or part is ever held in memory whole.
"""

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.storage.backend import PartRecord
from app.storage.signed_urls import sign_url

CHUNK = 1024 * 1024
MANIFEST = "manifest.json"
WRITE_BATCH = 8 * CHUNK


class PartTooLarge(ValueError):
    def __init__(self, max_bytes: int):
        super().__init__(f"This part may hold at most {max_bytes} bytes")
        self.max_bytes = max_bytes


class LocalStore:
    def __init__(
        self, alias: str, root: Path, public_base_url: str, secret: str, valid_seconds: int
    ):
        self.alias = alias
        self.root = root / alias
        self.public_base_url = public_base_url
        self.secret = secret
        self.valid_seconds = valid_seconds

    # -- uploads ---------------------------------------------------------------------

    def begin_upload(self, upload_key: str) -> str:
        self._upload_dir(upload_key).mkdir(parents=True, exist_ok=True)
        return upload_key

    def part_upload_url(
        self, upload_key: str, upload_id: str, part_number: int, max_bytes: int
    ) -> str:
        path = f"/storage/{self.alias}/uploads/{upload_key}/parts/{part_number}"
        return sign_url(
            self.public_base_url, self.secret, "PUT", path, self.valid_seconds, max_bytes
        )

    def receive_part(
        self, upload_key: str, part_number: int, stream: BinaryIO, max_bytes: int | None = None
    ) -> PartRecord:
        """Store one part as it streams in, computing its checksums on the way.

        A part that grows past `max_bytes` raises PartTooLarge and leaves nothing stored.
        """
        folder = self._upload_dir(upload_key)
        if not folder.is_dir():
            raise FileNotFoundError(upload_key)
        md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
        temporary = folder / f"{part_number}.part.incoming"
        try:
            with temporary.open("wb") as target:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise PartTooLarge(max_bytes)
                    md5.update(chunk)
                    sha256.update(chunk)
                    target.write(chunk)
        except BaseException:  # too large, too long for the server, or cut off
            temporary.unlink(missing_ok=True)
            raise
        record = PartRecord(part_number, size, md5.hexdigest(), sha256.hexdigest())
        os.replace(temporary, folder / f"{part_number}.part")
        (folder / f"{part_number}.json").write_text(json.dumps(record.__dict__))
        return record

    def uploaded_parts(self, upload_key: str, upload_id: str) -> list[PartRecord]:
        folder = self._upload_dir(upload_key)
        if not folder.is_dir():
            return []
        records = [PartRecord(**json.loads(p.read_text())) for p in folder.glob("*.json")]
        return sorted(records, key=lambda record: record.number)

    def open_upload(self, upload_key: str, upload_id: str) -> BinaryIO:
        parts = [
            self._upload_dir(upload_key) / f"{record.number}.part"
            for record in self.uploaded_parts(upload_key, upload_id)
        ]
        return io.BufferedReader(_ConcatenatedFiles(parts), buffer_size=CHUNK)

    def discard_upload(self, upload_key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload_dir(upload_key), ignore_errors=True)

    # -- objects ---------------------------------------------------------------------

    def write_object(self, object_key: str, chunks: Iterator[bytes]) -> int:
        target = self.object_path(object_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".incoming")
        size, pending = 0, bytearray()
        # Crypt4GH segments are 64 KiB; writing them in larger batches halves the cost.
        with temporary.open("wb", buffering=0) as file:
            for chunk in chunks:
                pending += chunk
                size += len(chunk)
                if len(pending) >= WRITE_BATCH:
                    file.write(pending)
                    pending.clear()
            file.write(pending)
        os.replace(temporary, target)
        return size

    def keep_upload(self, upload_key, upload_id, object_key, offset, content) -> int:
        """Keep the part files as the object, with the offset past the header: no copy."""
        for _ in content:  # the caller checks every segment on the way
            pass
        parts = self.uploaded_parts(upload_key, upload_id)
        target = self._parts_object_dir(object_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._upload_dir(upload_key), target)
        manifest = {"offset": offset, "parts": [[f"{p.number}.part", p.size] for p in parts]}
        (target / MANIFEST).write_text(json.dumps(manifest))
        return sum(part.size for part in parts) - offset

    def object_extent(self, object_key: str) -> tuple[int, list[tuple[Path, int]], int] | None:
        """(size, [(file, bytes)], offset) of a stored object, or None if there is none.

        An object is one file, or the kept part files of an upload read from `offset`.
        """
        single = self.object_path(object_key)
        if single.is_file():
            size = single.stat().st_size
            return size, [(single, size)], 0
        folder = self._parts_object_dir(object_key)
        if not (folder / MANIFEST).is_file():
            return None
        manifest = json.loads((folder / MANIFEST).read_text())
        files = [(folder / name, size) for name, size in manifest["parts"]]
        return sum(size for _, size in files) - manifest["offset"], files, manifest["offset"]

    def read_object(self, object_key: str) -> Iterator[bytes]:
        extent = self.object_extent(object_key)
        if extent is None:
            raise FileNotFoundError(object_key)
        size, files, offset = extent
        return read_extent(files, offset, 0, size - 1) if size else iter(())

    def download_url(self, object_key: str) -> str:
        path = f"/storage/{self.alias}/objects/{object_key}"
        return sign_url(self.public_base_url, self.secret, "GET", path, self.valid_seconds)

    def delete_object(self, object_key: str) -> None:
        self.object_path(object_key).unlink(missing_ok=True)
        shutil.rmtree(self._parts_object_dir(object_key), ignore_errors=True)

    def object_path(self, object_key: str) -> Path:
        return self.root / "objects" / object_key

    def _parts_object_dir(self, object_key: str) -> Path:
        return self.root / "objects" / f"{object_key}.parts"

    def _upload_dir(self, upload_key: str) -> Path:
        return self.root / "uploads" / upload_key


class _ConcatenatedFiles(io.RawIOBase):
    """Several files read as one stream, opened one at a time."""

    def __init__(self, paths: list[Path]):
        self._paths = list(paths)
        self._current = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._current is None:
                if not self._paths:
                    return 0
                self._current = self._paths.pop(0).open("rb")
            count = self._current.readinto(buffer)
            if count:
                return count
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
        super().close()


def read_extent(
    files: list[tuple[Path, int]], offset: int, start: int, end: int
) -> Iterator[bytes]:
    """Bytes `start`..`end` (inclusive) of the object made of `files` read from `offset`."""
    position, remaining = offset + start, end - start + 1
    for path, size in files:
        if remaining <= 0:
            return
        if position >= size:
            position -= size
            continue
        with path.open("rb") as file:
            file.seek(position)
            while remaining > 0 and (chunk := file.read(min(CHUNK, remaining))):
                remaining -= len(chunk)
                yield chunk
        position = 0
