"""The S3 backend: presigned part uploads into multipart uploads, presigned ranged GETs.

Upload parts go straight to S3; their MD5s come from S3's part listing (ETags),
and their SHA-256s are checked when the worker decrypts the whole object.
"""

import io
from collections.abc import Iterator
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from app.storage.backend import PartRecord

WRITE_PART_SIZE = 16 * 1024 * 1024  # above S3's 5 MiB minimum for all but the last part


class S3Store:
    def __init__(self, settings):
        self.alias = settings.storage_alias
        self.bucket = settings.s3_bucket
        self.valid_seconds = settings.signed_url_valid_seconds
        secret = settings.s3_secret_access_key
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        self._bucket_checked = False

    # -- uploads ---------------------------------------------------------------------

    def begin_upload(self, upload_key: str) -> str:
        self._ensure_bucket()
        created = self.client.create_multipart_upload(Bucket=self.bucket, Key=_upload(upload_key))
        return created["UploadId"]

    def part_upload_url(
        self, upload_key: str, upload_id: str, part_number: int, max_bytes: int
    ) -> str:
        # A presigned S3 URL cannot bound the body; an oversized part is refused at close.
        return self.client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": _upload(upload_key),
                "UploadId": upload_id,
                "PartNumber": part_number,
            },
            ExpiresIn=self.valid_seconds,
        )

    def uploaded_parts(self, upload_key: str, upload_id: str) -> list[PartRecord]:
        records, marker = [], 0
        while True:
            try:
                page = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=_upload(upload_key),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
            except ClientError as error:
                if _code(error) == "NoSuchUpload":
                    return []
                raise
            for part in page.get("Parts", []):
                records.append(
                    PartRecord(part["PartNumber"], part["Size"], part["ETag"].strip('"'), None)
                )
            if not page.get("IsTruncated"):
                return records
            marker = page["NextPartNumberMarker"]

    def open_upload(self, upload_key: str, upload_id: str) -> BinaryIO:
        """Complete the multipart upload (once) and stream the assembled object."""
        parts = self.uploaded_parts(upload_key, upload_id)
        if parts:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=_upload(upload_key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": f'"{p.md5}"'} for p in parts]
                },
            )
        body = self.client.get_object(Bucket=self.bucket, Key=_upload(upload_key))["Body"]
        return io.BufferedReader(_BodyReader(body), buffer_size=1024 * 1024)

    def discard_upload(self, upload_key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=_upload(upload_key), UploadId=upload_id
            )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise
        self.client.delete_object(Bucket=self.bucket, Key=_upload(upload_key))

    # -- objects ---------------------------------------------------------------------

    def write_object(self, object_key: str, chunks: Iterator[bytes]) -> int:
        self._ensure_bucket()
        key = _object(object_key)
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        parts, pending, size = [], bytearray(), 0
        try:
            for chunk in chunks:
                pending += chunk
                size += len(chunk)
                if len(pending) >= WRITE_PART_SIZE:
                    parts.append(self._write_part(key, upload_id, len(parts) + 1, bytes(pending)))
                    pending.clear()
            if pending or not parts:
                parts.append(self._write_part(key, upload_id, len(parts) + 1, bytes(pending)))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return size

    def keep_upload(self, upload_key, upload_id, object_key, offset, content) -> int:
        # S3 objects cannot start at an offset: the checked bytes are written anew.
        return self.write_object(object_key, content)

    def _write_part(self, key: str, upload_id: str, number: int, data: bytes) -> dict:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def download_url(self, object_key: str) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": _object(object_key)},
            ExpiresIn=self.valid_seconds,
        )

    def read_object(self, object_key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=_object(object_key))["Body"]
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404"):
                raise FileNotFoundError(object_key) from None
            raise
        try:
            yield from body.iter_chunks(READ_CHUNK)
        finally:
            body.close()

    def delete_object(self, object_key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_object(object_key))

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
        self._bucket_checked = True


READ_CHUNK = 1024 * 1024


def _upload(upload_key: str) -> str:
    return f"uploads/{upload_key}"


def _object(object_key: str) -> str:
    return f"objects/{object_key}"


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class _BodyReader(io.RawIOBase):
    """A botocore streaming body as a raw stream."""

    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()
