"""File URLs exactly as Parse Server and its files adapters build them (pure functions).

Facts this module mirrors (parse-server ``FilesController``, ``GridFSBucketAdapter``,
``@parse/s3-files-adapter`` 5.x, ``@parse/gcs-files-adapter``):

- through the server: ``<mount>/files/<appId>/<name>``; the S3 adapter encodes each ``/``-separated
  part of the name with ``encodeURIComponent``, GridFS and GCS encode the whole name;
- S3 direct access: ``https://<bucket>.s3.amazonaws.com/<bucketPrefix><name>`` (virtual-host style);
  with ``baseUrl``: ``<baseUrl>/<bucketPrefix><name>``, or ``<baseUrl>/<name>`` with ``baseUrlDirect``;
- GCS direct access: ``https://storage.googleapis.com/<bucket>/<bucketPrefix><name>``;
- legacy Parse-hosted names: ``tfss-...`` at ``http://files.parsetfss.com/<fileKey>/<name>``, and
  ``<uuid>-...`` at ``http://files.parse.com/<fileKey>/<name>``.

One deliberate extension: an S3-compatible store declared with ``endpoint_url`` and direct access but
no ``base_url`` is addressed path-style (``<endpoint>/<bucket>/<key>``), the only form such stores
answer; Parse itself would emit the amazonaws.com form there, so declare ``base_url`` to be exact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from cutover.errors import ConfigError
from cutover.model import Target

LEGACY_TFSS_HOST = "files.parsetfss.com"
LEGACY_PARSE_HOST = "files.parse.com"
LEGACY_HOSTS = (LEGACY_TFSS_HOST, LEGACY_PARSE_HOST)
_LEGACY_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}-.*")
# encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) alone; quote() always keeps -_.~ and alnum.
_URI_COMPONENT_SAFE = "!*'()"


@dataclass(frozen=True)
class UrlScheme:
    """What the target's files adapter needs to build a URL for a file name."""

    adapter: str = "s3"              # s3 | gridfs | gcs
    mount: str = ""                  # Parse Server publicServerURL (or serverURL)
    app_id: str = ""
    bucket: str = ""
    prefix: str = ""
    direct_access: bool = False
    base_url: str = ""
    base_url_direct: bool = False
    endpoint_url: str = ""
    file_key: str = ""


def encode_component(text: str) -> str:
    """JavaScript's ``encodeURIComponent``."""
    return quote(text, safe=_URI_COMPONENT_SAFE)


def encode_path(name: str) -> str:
    """The S3 adapter's encoding: every ``/``-separated part through ``encodeURIComponent``."""
    return "/".join(encode_component(part) for part in name.split("/"))


def server_file_url(mount: str, app_id: str, encoded_name: str) -> str:
    """``<mount>/files/<appId>/<name>``: the file served through Parse Server."""
    return f"{mount.rstrip('/')}/files/{app_id}/{encoded_name}"


def s3_direct_url(scheme: UrlScheme, name: str) -> str:
    encoded = encode_path(name)
    key = f"{scheme.prefix}{encoded}"
    if scheme.base_url:
        return f"{scheme.base_url.rstrip('/')}/{encoded if scheme.base_url_direct else key}"
    if scheme.endpoint_url:
        return f"{scheme.endpoint_url.rstrip('/')}/{scheme.bucket}/{key}"
    return f"https://{scheme.bucket}.s3.amazonaws.com/{key}"


def gcs_direct_url(scheme: UrlScheme, name: str) -> str:
    """The GCS adapter's direct-access URL: the name is NOT encoded (``@parse/gcs-files-adapter`` 2.x joins it
    as it is; an HTTP client sends a space as %20, as a browser does). ``base_url`` replaces
    ``https://storage.googleapis.com/<bucket>`` (a CDN or proxy in front of the bucket, or an emulator)."""
    origin = scheme.base_url.rstrip("/") if scheme.base_url else f"https://storage.googleapis.com/{scheme.bucket}"
    return f"{origin}/{scheme.prefix}{name}"


def adapter_url(scheme: UrlScheme, name: str) -> str:
    """The URL the adapter's ``getFileLocation`` returns for ``name``."""
    if scheme.adapter == "s3":
        return s3_direct_url(scheme, name) if scheme.direct_access else \
            server_file_url(scheme.mount, scheme.app_id, encode_path(name))
    if scheme.adapter == "gcs" and scheme.direct_access:
        return gcs_direct_url(scheme, name)
    if scheme.adapter in ("gcs", "gridfs"):
        return server_file_url(scheme.mount, scheme.app_id, encode_component(name))
    raise ConfigError(f"files.adapter = {scheme.adapter!r}: expected one of s3, gridfs, gcs")


def is_legacy_name(name: str) -> bool:
    """A name Parse's hosted file service gave (``tfss-...`` or ``<uuid>-...``)."""
    return name.startswith("tfss-") or bool(_LEGACY_UUID.match(name))


def is_legacy_url(url: str) -> bool:
    return urlsplit(url).hostname in LEGACY_HOSTS if url else False


def legacy_url(name: str, file_key: str) -> str | None:
    """Where Parse Server points a legacy name when a ``fileKey`` is configured, else None."""
    if name.startswith("tfss-"):
        host = LEGACY_TFSS_HOST
    elif _LEGACY_UUID.match(name):
        host = LEGACY_PARSE_HOST
    else:
        return None
    return f"http://{host}/{file_key}/{encode_component(name)}"


def redact_url(url: str, secrets: tuple[str, ...] = ()) -> str:
    """The URL without user info, query string (presigned signatures) or any of ``secrets``."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path
    for secret in secrets:
        if secret:
            path = path.replace(secret, "***")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def scheme_for(target: Target) -> UrlScheme:
    """The URL scheme of a target, from its ``files`` and ``parse`` sections."""
    files, parse = target.files, target.parse
    if files is None:
        raise ConfigError(f"target {target.name!r} declares no [files] section")
    mount = (parse.public_url or parse.server_url) if parse else ""
    needs_server = not files.direct_access or files.adapter == "gridfs"
    if needs_server and parse is None:
        raise ConfigError(
            f"target {target.name!r}: files are served through Parse Server but [parse] server_url is missing"
        )
    return UrlScheme(
        adapter=files.adapter, mount=mount, app_id=parse.app_id if parse else "", bucket=files.bucket,
        prefix=files.prefix, direct_access=files.direct_access, base_url=files.base_url,
        base_url_direct=bool(getattr(files, "base_url_direct", False)), endpoint_url=files.endpoint_url,
        file_key=parse.file_key if parse else "",
    )
