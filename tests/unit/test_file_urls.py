"""URL building per adapter, against the strings parse-server and its adapters produce."""
from __future__ import annotations

import dataclasses

import pytest

from cutover.errors import ConfigError
from cutover.files.urls import (
    UrlScheme,
    adapter_url,
    encode_component,
    is_legacy_name,
    is_legacy_url,
    legacy_url,
    redact_url,
    scheme_for,
)
from cutover.model import Database, Files, ParseServer, Source, Target

NAME = "0123456789abcdef0123456789abcdef_photo.png"


def test_encode_component_matches_javascript() -> None:
    # encodeURIComponent("a b/c?d&e=f!~*'()é") in node
    assert encode_component("a b/c?d&e=f!~*'()é") == "a%20b%2Fc%3Fd%26e%3Df!~*'()%C3%A9"


def test_through_the_server_s3_keeps_slashes_gridfs_encodes_them() -> None:
    s3 = UrlScheme(adapter="s3", mount="https://api.example.com/parse/", app_id="app")
    gridfs = UrlScheme(adapter="gridfs", mount="https://api.example.com/parse", app_id="app")
    assert adapter_url(s3, "dir/my file.png") == "https://api.example.com/parse/files/app/dir/my%20file.png"
    assert adapter_url(gridfs, "dir/my file.png") == "https://api.example.com/parse/files/app/dir%2Fmy%20file.png"


def test_s3_direct_access_virtual_host_with_prefix() -> None:
    scheme = UrlScheme(adapter="s3", bucket="my-bucket", prefix="files/", direct_access=True)
    assert adapter_url(scheme, NAME) == f"https://my-bucket.s3.amazonaws.com/files/{NAME}"


def test_s3_direct_access_base_url_and_base_url_direct() -> None:
    scheme = UrlScheme(adapter="s3", bucket="b", prefix="p/", direct_access=True, base_url="https://cdn.example.com/")
    assert adapter_url(scheme, "x y.png") == "https://cdn.example.com/p/x%20y.png"
    direct = UrlScheme(adapter="s3", bucket="b", prefix="p/", direct_access=True,
                       base_url="https://cdn.example.com", base_url_direct=True)
    assert adapter_url(direct, "x y.png") == "https://cdn.example.com/x%20y.png"


def test_s3_compatible_endpoint_is_path_style() -> None:
    scheme = UrlScheme(adapter="s3", bucket="b", prefix="p/", direct_access=True,
                       endpoint_url="http://127.0.0.1:9000")
    assert adapter_url(scheme, NAME) == f"http://127.0.0.1:9000/b/p/{NAME}"


def test_gcs_direct_and_through_server() -> None:
    direct = UrlScheme(adapter="gcs", bucket="g", prefix="p/", direct_access=True)
    # @parse/gcs-files-adapter 2.x joins the name as it is (an HTTP client then sends the space as %20)
    assert adapter_url(direct, "a b@c.png") == "https://storage.googleapis.com/g/p/a b@c.png"
    via = dataclasses.replace(direct, base_url="http://127.0.0.1:4443/g/")
    assert adapter_url(via, "a b.png") == "http://127.0.0.1:4443/g/p/a b.png"
    served = UrlScheme(adapter="gcs", mount="http://h/parse", app_id="app")
    assert adapter_url(served, "a b.png") == "http://h/parse/files/app/a%20b.png"


def test_unknown_adapter_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="adapter"):
        adapter_url(UrlScheme(adapter="azure"), NAME)


def test_legacy_names_and_urls() -> None:
    tfss = "tfss-1c2d3e4f-aaaa-bbbb-cccc-0123456789ab-pic.jpg"
    uuid = "1c2d3e4f-aaaa-bbbb-cccc-0123456789ab-pic.jpg"
    assert is_legacy_name(tfss) and is_legacy_name(uuid) and not is_legacy_name(NAME)
    assert legacy_url(tfss, "KEY") == f"http://files.parsetfss.com/KEY/{tfss}"
    assert legacy_url(uuid, "KEY") == f"http://files.parse.com/KEY/{uuid}"
    assert legacy_url(NAME, "KEY") is None
    assert is_legacy_url(f"http://files.parsetfss.com/KEY/{tfss}")
    assert not is_legacy_url("https://cdn.example.com/files.parsetfss.com")


def test_redact_url_drops_credentials_query_and_secrets() -> None:
    url = "https://user:pw@files.parsetfss.com:8443/SECRETKEY/tfss-x.png?X-Amz-Signature=abc"
    assert redact_url(url, ("SECRETKEY",)) == "https://files.parsetfss.com:8443/***/tfss-x.png"


def _target(files: Files, parse: ParseServer | None) -> Target:
    return Target(name="t", source=Source(), database=Database(uri="mongodb://x/db"), parse=parse, files=files)


def test_scheme_for_uses_public_url_and_requires_a_server_when_proxied() -> None:
    parse = ParseServer(server_url="http://internal:1337/parse", app_id="app", public_url="https://api.x/parse",
                        file_key="fk")
    scheme = scheme_for(_target(Files(adapter="s3", bucket="b"), parse))
    assert (scheme.mount, scheme.app_id, scheme.file_key) == ("https://api.x/parse", "app", "fk")
    with pytest.raises(ConfigError, match="server_url"):
        scheme_for(_target(Files(adapter="gridfs"), None))
    assert scheme_for(_target(Files(adapter="s3", bucket="b", direct_access=True), None)).mount == ""
