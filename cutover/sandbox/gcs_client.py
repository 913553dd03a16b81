"""A small client of the GCS JSON API for the sandbox: buckets, objects, ACLs, copies between buckets.

Plain ``requests`` against an endpoint that needs no authentication (the sandbox's fake-gcs-server, see
:mod:`cutover.sandbox.gcs_server`): seeding and the tests need a dozen calls, each visible here with its
timeout, which ``google-cloud-storage`` (credentials discovery, retries, a dozen dependencies) would hide.
An answer other than the expected one raises :class:`SandboxError` naming the call, status and body.
"""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from cutover.errors import SandboxError

DEFAULT_TIMEOUT = 10.0
OCTET_STREAM = "application/octet-stream"
PUBLIC_READER = {"entity": "allUsers", "role": "READER"}


@dataclass(frozen=True)
class GCSBucket:
    name: str
    location: str       # upper case, as GCS reports it (e.g. EUROPE-WEST1)
    location_type: str  # region | dual-region | multi-region
    storage_class: str


@dataclass(frozen=True)
class GCSObject:
    bucket: str
    name: str
    size: int
    content_type: str
    md5_hash: str | None  # base64 of the MD5 digest (GCS omits it for composite objects)
    crc32c: str | None    # base64 of the big-endian CRC32C
    generation: str

    @property
    def md5_hex(self) -> str | None:
        """The MD5 in hex, the form an S3 single-part ETag takes."""
        return base64.b64decode(self.md5_hash).hex() if self.md5_hash else None


def bucket_from_json(doc: Mapping[str, Any]) -> GCSBucket:
    return GCSBucket(name=doc["name"], location=str(doc.get("location", "")).upper(),
                     location_type=doc.get("locationType", ""), storage_class=doc.get("storageClass", ""))


def object_from_json(doc: Mapping[str, Any]) -> GCSObject:
    return GCSObject(bucket=doc["bucket"], name=doc["name"], size=int(doc["size"]),
                     content_type=doc.get("contentType", ""), md5_hash=doc.get("md5Hash"),
                     crc32c=doc.get("crc32c"), generation=str(doc.get("generation", "")))


class GCSClient:
    """The JSON API of one endpoint; ``endpoint`` is the base URL (``http://127.0.0.1:<port>``)."""

    def __init__(self, endpoint: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def close(self) -> None:
        self._session.close()

    def create_bucket(self, name: str, location: str | None = None) -> GCSBucket:
        """Create ``name``; with ``location``, refuse (and remove the bucket) unless it reports that location."""
        body = {"name": name, **({"location": location} if location else {})}
        made = bucket_from_json(self._call("POST", "/storage/v1/b", f"create bucket {name}",
                                           params={"project": "cutover-sandbox"}, json=body).json())
        if location and made.location != location.upper():
            self._call("DELETE", f"/storage/v1/b/{name}", f"delete bucket {name}", ok=(200, 204))
            raise SandboxError(f"GCS bucket {name} was created in {made.location}, not {location.upper()}: "
                               "fake-gcs-server puts every bucket in the location of its server; start a "
                               f"gcs_service(location={location.upper()!r}) for this bucket")
        return made

    def bucket(self, name: str) -> GCSBucket | None:
        """The bucket's metadata, or None when it does not exist."""
        answer = self._call("GET", f"/storage/v1/b/{name}", f"get bucket {name}", ok=(200, 404))
        return bucket_from_json(answer.json()) if answer.status_code == 200 else None

    def upload(self, bucket: str, name: str, data: bytes, content_type: str = OCTET_STREAM,
               metadata: Mapping[str, str] | None = None) -> GCSObject:
        """Store ``data`` as ``bucket/name`` in one multipart upload (JSON metadata, then the bytes)."""
        resource = {"name": name, "contentType": content_type, **({"metadata": dict(metadata)} if metadata else {})}
        boundary = uuid.uuid4().hex
        body = b"".join([
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(resource).encode(),
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode(), data,
            f"\r\n--{boundary}--\r\n".encode(),
        ])
        answer = self._call("POST", f"/upload/storage/v1/b/{bucket}/o", f"upload {bucket}/{name}",
                            params={"uploadType": "multipart"}, data=body,
                            headers={"Content-Type": f"multipart/related; boundary={boundary}"})
        return object_from_json(answer.json())

    def stat(self, bucket: str, name: str) -> GCSObject | None:
        """The object's metadata, or None when it does not exist."""
        answer = self._call("GET", self._object_path(bucket, name), f"get {bucket}/{name}", ok=(200, 404))
        return object_from_json(answer.json()) if answer.status_code == 200 else None

    def read(self, bucket: str, name: str, byte_range: tuple[int, int] | None = None) -> bytes:
        """The object's bytes; ``byte_range=(first, last)`` (inclusive, as in HTTP) reads only those."""
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
        return self._call("GET", self._object_path(bucket, name), f"download {bucket}/{name}",
                          ok=(206,) if byte_range else (200,), params={"alt": "media"}, headers=headers).content

    def list_objects(self, bucket: str, prefix: str = "", page_size: int = 1000) -> Iterator[GCSObject]:
        """Every object under ``prefix``, page by page (``pageToken``)."""
        params: dict[str, Any] = {"prefix": prefix, "maxResults": page_size}
        while True:
            page = self._call("GET", f"/storage/v1/b/{bucket}/o", f"list {bucket}", params=params).json()
            yield from (object_from_json(item) for item in page.get("items", []))
            if not page.get("nextPageToken"):
                return
            params["pageToken"] = page["nextPageToken"]

    def delete(self, bucket: str, name: str) -> bool:
        """Delete the object; False when there was none."""
        answer = self._call("DELETE", self._object_path(bucket, name), f"delete {bucket}/{name}", ok=(200, 204, 404))
        return answer.status_code != 404

    def make_public(self, bucket: str, name: str) -> None:
        """Grant ``allUsers`` READER on the object (what the Parse adapter does under directAccess)."""
        self._call("POST", self._object_path(bucket, name) + "/acl", f"make {bucket}/{name} public", json=PUBLIC_READER)

    def is_public(self, bucket: str, name: str) -> bool:
        """True when the object's ACL grants ``allUsers`` READER (the emulator itself never enforces it)."""
        acl = self._call("GET", self._object_path(bucket, name) + "/acl", f"get ACL of {bucket}/{name}").json()
        return any({k: rule.get(k) for k in PUBLIC_READER} == PUBLIC_READER for rule in acl.get("items", []))

    def public_url(self, bucket: str, name: str) -> str:
        """The direct-access URL: the emulator's ``https://storage.googleapis.com/<bucket>/<name>``."""
        return f"{self.endpoint}/{bucket}/{quote(name, safe='/')}"

    @staticmethod
    def _object_path(bucket: str, name: str) -> str:
        return f"/storage/v1/b/{bucket}/o/{quote(name, safe='')}"

    def _call(self, method: str, path: str, what: str, ok: tuple[int, ...] = (200,),
              **kwargs: Any) -> requests.Response:
        try:
            answer = self._session.request(method, self.endpoint + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SandboxError(f"GCS {what} at {self.endpoint} failed: {exc}") from exc
        if answer.status_code not in ok:
            raise SandboxError(f"GCS {what} at {self.endpoint} answered HTTP {answer.status_code}: {answer.text[:200]}")
        return answer


def copy_bucket(source: GCSClient, source_bucket: str, target: GCSClient, target_bucket: str,
                prefix: str = "", public: bool = False) -> tuple[str, ...]:
    """Copy every object under ``prefix`` (bytes and content type), as a migration would; the names copied."""
    copied = []
    for obj in source.list_objects(source_bucket, prefix):
        target.upload(target_bucket, obj.name, source.read(source_bucket, obj.name), obj.content_type)
        if public:
            target.make_public(target_bucket, obj.name)
        copied.append(obj.name)
    return tuple(copied)
