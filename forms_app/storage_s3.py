"""Stored files on an S3-compatible object store (AWS S3, MinIO, Ceph, Garage, Scaleway…).

Objects are named S3_PREFIX + the storage key ("ab/abcdef…", the content's SHA-256), so the
keys kept in the database are the same whatever the backend. Objects are written once: a HEAD
first (no upload when the content is there), then a PUT with `If-None-Match: *`, so of two
processes storing the same content one writes and the other is told it exists.
"""

import base64
import hashlib
import os
import threading
from contextlib import contextmanager

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Response, request, send_file

from forms_app.storage_errors import ObjectNotFound, StorageUnavailable

MISSING = {"404", "NoSuchKey", "NotFound"}
# A conditional PUT lost against another writer of the same key: the object exists.
WRITTEN_BY_ANOTHER = {"PreconditionFailed", "412"}
# Another conditional write of the key was in flight (AWS): look, then try again.
CONFLICT = {"ConditionalRequestConflict", "409"}
# Stores that do not know conditional writes; the content is the same, a plain PUT is safe.
NO_CONDITIONAL_WRITES = {"NotImplemented", "501"}


class S3Storage:
    """One bucket; the boto3 client is made on first use (create_app does no I/O)."""

    name = "s3"

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url=None, region=None,
                 addressing_style=None):  # fmt: skip
        self.bucket = str(bucket)
        self.prefix = prefix or ""
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.addressing_style = addressing_style or ("path" if endpoint_url else "auto")
        self._client = None
        self._pid = None
        self._lock = threading.Lock()

    def client(self):
        """The boto3 client of this process (a forked child makes its own)."""
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = boto3.session.Session().client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        config=Config(
                            connect_timeout=5,
                            read_timeout=60,
                            retries={"max_attempts": 4, "mode": "standard"},
                            max_pool_connections=32,
                            s3={"addressing_style": self.addressing_style},
                            # Checksums only where S3 requires them: many S3-compatible stores
                            # refuse the newer default trailers. Uploads carry Content-MD5.
                            request_checksum_calculation="when_required",
                            response_checksum_validation="when_required",
                        ),
                    )
                    self._pid = os.getpid()
        return self._client

    def object_name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def exists(self, key: str) -> bool:
        try:
            with self._errors(key):
                self.client().head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ObjectNotFound:
            return False
        return True

    def store(self, key: str, content: bytes) -> None:
        """Upload `content` under `key` unless it is there already; never rewrite an object."""
        if not self.exists(key):
            self.put_once(key, content)

    def put_once(self, key: str, content: bytes) -> None:
        """A PUT that succeeds only if no object has the key; losing that race is success."""
        arguments = {
            "Bucket": self.bucket,
            "Key": self.object_name(key),
            "Body": content,
            "ContentType": "application/octet-stream",
            "ContentMD5": base64.b64encode(
                hashlib.md5(content, usedforsecurity=False).digest()
            ).decode(),
        }
        with self._errors(key):
            for attempt in range(3):
                try:
                    self.client().put_object(IfNoneMatch="*", **arguments)
                    return
                except ClientError as exc:
                    code = _code(exc)
                    if code in WRITTEN_BY_ANOTHER:
                        return
                    if code in NO_CONDITIONAL_WRITES:
                        self.client().put_object(**arguments)
                        return
                    if code not in CONFLICT or attempt == 2:
                        raise
                if self.exists(key):  # the concurrent write landed
                    return

    def read(self, key: str) -> bytes:
        with self._errors(key):
            found = self.client().get_object(Bucket=self.bucket, Key=self.object_name(key))
            with found["Body"] as body:
                return body.read()

    def delete(self, key: str) -> None:
        """Remove the object under `key` (S3 answers success for a missing one)."""
        with self._errors(key):
            self.client().delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def send(self, key: str, *, mimetype: str, download_name: str, as_attachment: bool):
        """The object as a Flask response, streamed from the store as the server reads it.

        Its ETag is the content hash (the key's last part), so a client that has it gets a
        304 without the object being fetched.
        """
        etag = key.rsplit("/", 1)[-1]
        if request.if_none_match.contains(etag):
            response = Response(status=304)
            response.set_etag(etag)
            return response
        with self._errors(key):
            found = self.client().get_object(Bucket=self.bucket, Key=self.object_name(key))
        response = send_file(
            _Body(found["Body"]),
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            etag=etag,
            last_modified=found.get("LastModified"),
            conditional=False,
        )
        response.content_length = found["ContentLength"]
        return response

    def check(self) -> None:
        """Raise StorageUnavailable unless the bucket answers to our credentials."""
        with self._errors(None):
            self.client().head_bucket(Bucket=self.bucket)

    @contextmanager
    def _errors(self, key: str | None):
        """Turn boto3's exceptions into ObjectNotFound or StorageUnavailable."""
        try:
            yield
        except ClientError as exc:
            code = _code(exc)
            if code == "NoSuchBucket" or (key is None and code in MISSING):
                raise StorageUnavailable(f"S3 bucket {self.bucket!r} does not exist") from exc
            if code in MISSING:
                raise ObjectNotFound(key) from exc
            raise StorageUnavailable(f"S3 bucket {self.bucket!r} answered {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"S3 endpoint {self.endpoint_url or 'of AWS'} failed: {type(exc).__name__}"
            ) from exc


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code") or status or "")


class _Body:
    """A streamed object body as the plain file WSGI servers read (read, close; no fileno)."""

    def __init__(self, body):
        self._body = body

    def read(self, size: int | None = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        self._body.close()
