"""Topology: regions, links and whether they cross, hosts from URIs (SRV over a real local DNS server), S3 region."""
from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
from moto import mock_aws

from cutover.errors import TargetTimeout, TargetUnreachable
from cutover.model import Database, Files, ParseServer, Source, Target
from cutover.session import Session
from cutover.transport.facade import TransportFacade
from cutover.transport.tls import HostPort
from cutover.transport.topology import (
    Region,
    declared_regions,
    detected_regions,
    link_hosts,
    links,
    mongo_hosts,
    resolve_srv,
    url_host,
)
from tests.threaded import SocketThread

EU = "aws:eu-west-1"


def make_target(db_uri: str = "mongodb://db1.internal:27017/app", public: str = "https://api.example.com/parse",
                regions: dict[str, str] | None = None, files: Files | None = None) -> Target:
    return Target(
        name="t", source=Source(uri="mongodb://src/app"), database=Database(uri=db_uri),
        parse=ParseServer(server_url="http://10.0.0.1:1337/parse", app_id="app", public_url=public, ca_file="/ca"),
        files=files or Files(adapter="s3", bucket="files-eu", region="eu-west-1"),
        regions={"app_server": EU, "database": EU, "file_store": EU, "clients": "internet"}
        if regions is None else regions,
    )


def by_name(target: Target, detected: dict[str, Region] | None = None) -> dict[str, Any]:
    return {link.name: link for link in links(target, detected)}


def test_regions_parse_cloud_and_region() -> None:
    assert Region.parse(" AWS:eu-west-1 ") == Region("aws", "eu-west-1")
    assert str(Region.parse("internet")) == "internet"
    assert declared_regions(make_target())["clients"] == Region("internet")


def test_demo_like_topology() -> None:
    found = by_name(make_target())
    assert list(found) == ["clients->app_server", "app_server->database", "app_server->file_store"]
    public, db, store = found.values()
    assert public.crosses and public.tls_configured and public.hosts == (HostPort("api.example.com", 443),)
    assert public.ca_file == "/ca"
    assert not db.crosses and not db.tls_configured and db.hosts == (HostPort("db1.internal", 27017),)
    assert not store.crosses and store.tls_configured and store.hosts == (HostPort("s3.eu-west-1.amazonaws.com", 443),)


def test_database_in_another_region_crosses() -> None:
    db = by_name(make_target(regions={"app_server": EU, "database": "gcp:us-central1"}))["app_server->database"]
    assert db.crosses and db.regions() == "aws:eu-west-1 -> gcp:us-central1"


def test_undeclared_region_counts_as_crossing() -> None:
    db = by_name(make_target(regions={"app_server": EU}))["app_server->database"]
    assert db.crosses and "undeclared" in db.regions()


def test_detected_region_fills_an_undeclared_file_store_only() -> None:
    target = make_target(regions={"app_server": EU})
    store = by_name(target, {"file_store": Region("aws", "eu-west-1")})["app_server->file_store"]
    assert not store.crosses
    declared = make_target(regions={"app_server": EU, "file_store": "aws:us-east-1"})
    assert by_name(declared, {"file_store": Region("aws", "eu-west-1")})["app_server->file_store"].crosses


def test_replica_set_uri_lists_every_member_without_credentials() -> None:
    uri = "mongodb://app:p%40ss@a.example.net:27018,b.example.net,[::1]:27019/app?replicaSet=rs0&tls=true"
    assert mongo_hosts(uri) == (HostPort("a.example.net", 27018), HostPort("b.example.net", 27017),
                                HostPort("::1", 27019))
    db = by_name(make_target(db_uri=uri))["app_server->database"]
    assert db.tls_configured and len(db.hosts) == 3 and not db.srv_name


def test_password_with_at_sign_does_not_leak_into_hosts() -> None:
    assert mongo_hosts("mongodb://u:a@b@h1:1/app") == (HostPort("h1", 1),)


def test_srv_link_resolves_later_and_is_tls() -> None:
    db = by_name(make_target(db_uri="mongodb+srv://u:p@cluster0.example.net/app"))["app_server->database"]
    assert db.tls_configured and db.srv_name == "cluster0.example.net" and db.hosts == ()
    assert db.how == "mongodb+srv (TLS by default)"


def test_uri_weakening_options_and_ca_file_travel_with_the_link() -> None:
    db = by_name(make_target(db_uri="mongodb://h/app?tls=true&tlsInsecure=true&tlsCAFile=/x.pem"))
    assert db["app_server->database"].weakening == ("tlsInsecure",)
    assert db["app_server->database"].ca_file == "/x.pem"


def test_plaintext_public_url_and_http_store_endpoint() -> None:
    target = make_target(public="http://api.example.com:8080/parse",
                         files=Files(adapter="s3", bucket="b", endpoint_url="http://minio.local:9000"))
    found = by_name(target)
    assert not found["clients->app_server"].tls_configured
    assert found["clients->app_server"].hosts == (HostPort("api.example.com", 8080),)
    assert not found["app_server->file_store"].tls_configured


def test_gridfs_store_is_a_mongo_link() -> None:
    store = by_name(make_target(files=Files(adapter="gridfs")))["app_server->file_store"]
    assert store.hosts == (HostPort("db1.internal", 27017),) and not store.tls_configured


def test_no_parse_no_files_leaves_the_database_link() -> None:
    target = dataclasses.replace(make_target(), parse=None, files=None)
    assert [link.name for link in links(target)] == ["app_server->database"]


def test_url_host_defaults() -> None:
    assert url_host("https://h/parse") == HostPort("h", 443)
    assert url_host("http://h/parse") == HostPort("h", 80)


# -- SRV over a real (local) DNS server -------------------------------------------------------------------------
class DnsServer(SocketThread):
    """Answers SRV queries for ``_mongodb._tcp.cluster0.test`` over UDP; NXDOMAIN for anything else."""

    def __init__(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        super().__init__(sock)

    def serve_one(self) -> None:
        data, peer = self.sock.recvfrom(4096)
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        name = query.question[0].name.to_text()
        if name == "_mongodb._tcp.cluster0.test.":
            response.answer.append(dns.rrset.from_text(
                name, 60, "IN", "SRV", "0 0 27017 shard-b.cluster0.test.", "0 0 27018 shard-a.cluster0.test."))
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        self.sock.sendto(response.to_wire(), peer)

    def resolver(self) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        return resolver


@pytest.fixture(scope="module")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


def test_srv_records_give_every_host(dns_server: DnsServer) -> None:
    assert resolve_srv("cluster0.test", 2, dns_server.resolver()) == (
        HostPort("shard-a.cluster0.test", 27018), HostPort("shard-b.cluster0.test", 27017))


def test_unknown_srv_name_is_unreachable(dns_server: DnsServer) -> None:
    with pytest.raises(TargetUnreachable, match=r"_mongodb\._tcp\.nowhere\.test"):
        resolve_srv("nowhere.test", 2, dns_server.resolver())


def test_silent_dns_server_times_out() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], silent.getsockname()[1]
        with pytest.raises(TargetTimeout, match=r"within 0\.5 s"):
            resolve_srv("cluster0.test", 0.5, resolver)
    finally:
        silent.close()


def test_link_hosts_of_a_plain_link_need_no_dns() -> None:
    db = by_name(make_target())["app_server->database"]
    assert link_hosts(db, 0.1) == (HostPort("db1.internal", 27017),)


# -- S3 region ------------------------------------------------------------------------------------------------
@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
        client.create_bucket(Bucket="files-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.create_bucket(Bucket="east")
        yield client


def facts_with(target: Target, s3: Any) -> TransportFacade:
    """The transport facade of a session whose S3 client is this one (moto's)."""
    session = Session(target)
    session.memo.get(("session", "s3"), lambda: s3)
    return session.transport


def file_store_agreement(target: Target, s3: Any) -> Any:
    return facts_with(target, s3).file_store_region()


def test_declared_file_store_region_agrees_with_get_bucket_location(s3: Any) -> None:
    agreement = file_store_agreement(make_target(), s3)
    assert agreement is not None and agreement.actual == "eu-west-1" and agreement.agrees


def test_disagreeing_region_and_us_east_1_from_none(s3: Any) -> None:
    target = make_target(files=Files(adapter="s3", bucket="east"))
    agreement = file_store_agreement(target, s3)
    assert agreement is not None and agreement.actual == "us-east-1" and not agreement.agrees


def test_missing_bucket_does_not_agree(s3: Any) -> None:
    agreement = file_store_agreement(make_target(files=Files(adapter="s3", bucket="nope")), s3)
    assert agreement is not None and agreement.actual is None and not agreement.agrees


def test_undeclared_store_region_is_detected(s3: Any) -> None:
    target = make_target(regions={"app_server": EU})
    assert detected_regions(facts_with(target, s3).session.files.bucket_region()) == \
        {"file_store": Region("aws", "eu-west-1")}
    assert file_store_agreement(target, s3) is None
    assert detected_regions(None) == {}
