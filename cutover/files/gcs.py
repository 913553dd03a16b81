"""Google Cloud Storage facts over the JSON API (read-only): bucket location, listings with digests, ACLs.

``endpoint`` is ``https://storage.googleapis.com`` for real GCS (a bearer token from the environment variable
``GOOGLE_OAUTH_ACCESS_TOKEN``, e.g. ``gcloud auth print-access-token``, sent when set) or an emulator's base
URL. A listing gives ``size``, ``md5Hash`` (absent on composite objects), ``crc32c`` and ``contentType`` for
up to 1,000 objects a request, against one request per object for a stat (part 1 measured 0.09 s per
1,000 objects listed, 150-230 stats/s), so digests always come from listings.

Public read under direct access is judged from the object's ACL (an ``allUsers`` READER entry) or, for a
bucket with uniform bucket-level access (the ACL call answers 400), from the bucket's IAM policy
(``allUsers`` with ``roles/storage.objectViewer`` or ``legacyObjectReader``), never from an anonymous GET:
the emulator enforces no ACL, so an anonymous GET would always succeed there, and the same rule on both
keeps the sandbox's verdicts those of real GCS.

Every call has a timeout; 429 and 5xx answers are asked again up to ``RETRIES`` times with exponential backoff
(Retry-After honoured), as GCS asks of its clients, each retry counted as ``retry gcs``.
"""
from __future__ import annotations

import base64
import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from cutover.errors import TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.files.digests import StoreObject
from cutover.files.store_index import Counter, Page
from cutover.files.url_answer import RETRY_STATUSES, backoff_delay, retry_after_s

REAL_ENDPOINT = "https://storage.googleapis.com"
TOKEN_ENV = "GOOGLE_OAUTH_ACCESS_TOKEN"
PUBLIC_ROLES = frozenset({"roles/storage.objectViewer", "roles/storage.legacyObjectReader"})
_FIELDS = "nextPageToken,items(name,size,md5Hash,crc32c,contentType)"
RETRIES, BACKOFF_S, BACKOFF_MAX_S = 4, 0.2, 5.0     # GCS asks clients to back off exponentially on 429 and 5xx


@dataclass(frozen=True)
class GCSBucketFacts:
    name: str
    exists: bool
    location: str = ""         # upper case, as GCS reports it (EUROPE-WEST1, US, EU...)


class GCSStore:
    """One GCS endpoint; every call has a timeout and is counted."""

    def __init__(self, endpoint: str, timeout_s: float, counter: Counter | None = None) -> None:
        self.endpoint = (endpoint or REAL_ENDPOINT).rstrip("/")
        self.timeout_s = timeout_s
        self.counter = counter or Counter()
        self._http = requests.Session()
        token = os.environ.get(TOKEN_ENV, "")
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._http.close()

    def bucket(self, name: str) -> GCSBucketFacts:
        answer = self._get(f"/storage/v1/b/{quote(name, safe='')}", f"get bucket {name}", ok=(200, 404))
        if answer.status_code == 404:
            return GCSBucketFacts(name, False)
        return GCSBucketFacts(name, True, str(answer.json().get("location", "")).upper())

    def pages(self, bucket: str, prefix: str = "") -> Iterator[Page]:
        """The listing of every object under ``prefix`` (names without it), 1,000 a page: a request each."""
        params: dict[str, Any] = {"prefix": prefix, "maxResults": 1000, "fields": _FIELDS}
        while True:
            self.counter.add(f"list gcs:{bucket}")
            page = self._get(f"/storage/v1/b/{quote(bucket, safe='')}/o", f"list {bucket}", params=params).json()
            more = bool(page.get("nextPageToken"))
            yield [(str(item["name"])[len(prefix):], object_of(item)) for item in page.get("items", [])], more
            if not more:
                return
            params["pageToken"] = page["nextPageToken"]

    def listing(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, StoreObject]]:
        """(name without prefix, object) for every object under ``prefix``."""
        for items, _ in self.pages(bucket, prefix):
            yield from items

    def lookup(self, bucket: str, key: str) -> StoreObject | None:
        """One object's size, digests and type, None when absent: the per-object alternative to a listing."""
        self.counter.add(f"lookup gcs:{bucket}")
        answer = self._get(self._object(bucket, key), f"stat {bucket}/{key}", ok=(200, 404),
                           params={"fields": "size,md5Hash,crc32c,contentType"})
        return object_of(answer.json()) if answer.status_code == 200 else None

    def exists(self, bucket: str, key: str) -> bool:
        self.counter.add(f"stat gcs:{bucket}")
        return self._get(self._object(bucket, key), f"stat {bucket}/{key}", ok=(200, 404)).status_code == 200

    def read(self, bucket: str, key: str, start: int, end: int) -> bytes:
        self.counter.add(f"get gcs:{bucket}")
        return self._get(self._object(bucket, key), f"read {bucket}/{key}", ok=(200, 206), params={"alt": "media"},
                         headers={"Range": f"bytes={start}-{end - 1}"}).content[: end - start]

    def publicly_readable(self, bucket: str, key: str) -> bool:
        """From the object's ACL, or the bucket's IAM policy under uniform bucket-level access."""
        acl = self._get(self._object(bucket, key) + "/acl", f"ACL of {bucket}/{key}", ok=(200, 400))
        if acl.status_code == 200:
            return any(r.get("entity") == "allUsers" and r.get("role") == "READER"
                       for r in acl.json().get("items", []))
        policy = self._get(f"/storage/v1/b/{quote(bucket, safe='')}/iam", f"IAM policy of {bucket}").json()
        return any(b.get("role") in PUBLIC_ROLES and "allUsers" in b.get("members", [])
                   for b in policy.get("bindings", []))

    @staticmethod
    def _object(bucket: str, key: str) -> str:
        return f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"

    def _get(self, path: str, what: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> requests.Response:
        """One GET; 429 and 5xx answers are asked again after a backoff (counted as ``retry gcs``)."""
        for attempt in itertools.count():
            answer = self._get_once(path, what, **kwargs)
            if answer.status_code not in RETRY_STATUSES or attempt == RETRIES:
                break
            self.counter.add("retry gcs")
            time.sleep(backoff_delay(attempt, retry_after_s(answer.headers.get("Retry-After", "")), BACKOFF_S,
                                     BACKOFF_MAX_S))
        if answer.status_code not in ok:
            hint = f"; set {TOKEN_ENV} to a token that may read it" if answer.status_code in (401, 403) else ""
            raise UnexpectedAnswer(f"GCS {what} answered HTTP {answer.status_code}: {answer.text[:200]}{hint}")
        return answer

    def _get_once(self, path: str, what: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.get(self.endpoint + path, timeout=self.timeout_s, **kwargs)
        except requests.Timeout as exc:
            raise TargetTimeout(f"GCS {what}: no answer in {self.timeout_s:g} s from {self.endpoint}") from exc
        except requests.RequestException as exc:
            raise TargetUnreachable(f"GCS {what}: {self.endpoint} unreachable ({exc})") from exc


def object_of(item: dict[str, Any]) -> StoreObject:
    md5 = base64.b64decode(item["md5Hash"]).hex() if item.get("md5Hash") else ""
    return StoreObject(int(item.get("size", 0)), md5=md5, crc32c=str(item.get("crc32c") or ""),
                       content_type=str(item.get("contentType") or ""))


def gcs_bucket_problems(store: GCSStore, files: Any, samples: int = 3) -> tuple[list[str], dict[str, Any]]:
    """FILE-03 for a GCS bucket: it exists, in the declared location; with direct access, objects are public."""
    facts = store.bucket(files.bucket)
    if not facts.exists:
        return [f"bucket {files.bucket} does not exist"], {"location": None}
    problems = []
    if files.region and facts.location != files.region.upper():
        problems.append(f"bucket {files.bucket} is in {facts.location}, declared {files.region.upper()}")
    public = None
    if files.direct_access:
        keys = [files.prefix + name for name, _ in itertools.islice(store.listing(files.bucket, files.prefix), samples)]
        private = [k for k in keys if not store.publicly_readable(files.bucket, k)]
        public = not private if keys else None
        if private:
            problems.append(f"bucket {files.bucket}: objects are not publicly readable with direct access (no "
                            f"allUsers reader in the ACL or IAM policy of {', '.join(private)})")
    return problems, {"location": facts.location, "public_read": public}
