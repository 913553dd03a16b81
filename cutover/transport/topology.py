"""The deployment's topology: components, their declared regions, the links between them and their hosts.

Regions come from ``Target.regions`` (``"cloud:region"`` strings, e.g. ``"aws:eu-west-1"``; ``"internet"``
for clients). The file store's region is also read from S3 (GetBucketLocation) and must agree with the
declaration (TLS-01, :class:`cutover.transport.facade.TransportFacade`); when the file store's region is not
declared, the S3 answer is used instead. A link crosses
regions when its two ends differ; a link with an end whose region is unknown is treated as crossing (the
safe side: it must then be encrypted).

Hosts come from the URIs: every member of a replica-set URI (not only the first), and for ``mongodb+srv``
the SRV records ``_mongodb._tcp.<host>`` resolved with dnspython (with a lifetime = the target timeout).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cutover.errors import TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.model import Target
from cutover.transport.tls import HostPort, mongo_tls_options

MONGO_PORT = 27017


@dataclass(frozen=True)
class Region:
    cloud: str
    region: str = ""

    @classmethod
    def parse(cls, text: str) -> Region:
        cloud, _, region = text.strip().lower().partition(":")
        return cls(cloud, region)

    def __str__(self) -> str:
        return f"{self.cloud}:{self.region}" if self.region else self.cloud


@dataclass(frozen=True)
class Link:
    """One network link of the deployment, from ``src`` to ``dst``, as the target configures it."""

    src: str
    dst: str
    src_region: Region | None
    dst_region: Region | None
    tls_configured: bool
    how: str                                  # how the link is configured ("https URL", "tls=true", ...)
    hosts: tuple[HostPort, ...] = ()
    srv_name: str = ""                        # a mongodb+srv host whose SRV records list the hosts
    ca_file: str = ""
    weakening: tuple[str, ...] = ()           # URI options that switch certificate checks off

    @property
    def name(self) -> str:
        return f"{self.src}->{self.dst}"

    @property
    def crosses(self) -> bool:
        return self.src_region is None or self.dst_region is None or self.src_region != self.dst_region

    def regions(self) -> str:
        return f"{self.src_region or 'undeclared'} -> {self.dst_region or 'undeclared'}"


@dataclass(frozen=True)
class RegionAgreement:
    """The file store's declared region against the one S3 reports."""

    bucket: str
    declared: str
    actual: str | None            # None: the bucket does not exist

    @property
    def agrees(self) -> bool:
        return self.actual is not None and Region.parse(self.declared).region == self.actual


def declared_regions(target: Target) -> dict[str, Region]:
    return {name: Region.parse(text) for name, text in target.regions.items() if text.strip()}


def links(target: Target, detected: dict[str, Region] | None = None) -> list[Link]:
    """The links of the target: clients->app_server, app_server->database, app_server->file_store."""
    regions = {**(detected or {}), **declared_regions(target)}
    found = [_database_link(target, regions)]
    if target.parse is not None:
        found.insert(0, _public_link(target, regions))
    if target.files is not None:
        found.append(_file_store_link(target, regions))
    return found


def detected_regions(actual_store_region: str | None) -> dict[str, Region]:
    """Regions read from the services themselves where the target declares none (today: the S3 bucket's, as
    GetBucketLocation reports it; the files area asks)."""
    return {"file_store": Region("aws", actual_store_region)} if actual_store_region else {}


def public_url(target: Target) -> str:
    if target.parse is None:
        return ""
    return target.parse.public_url or target.parse.server_url


# -- links ---------------------------------------------------------------------------------------------------
def _public_link(target: Target, regions: dict[str, Region]) -> Link:
    assert target.parse is not None
    url = public_url(target)
    https = urlsplit(url).scheme.lower() == "https"
    return Link("clients", "app_server", regions.get("clients"), regions.get("app_server"), https,
                "https URL" if https else f"{urlsplit(url).scheme or 'no'} URL (plaintext)",
                (url_host(url),), ca_file=target.parse.ca_file)


def _database_link(target: Target, regions: dict[str, Region]) -> Link:
    return _mongo_link(target.database.uri, "database", regions, target.database.tls_ca_file)


def _mongo_link(uri: str, dst: str, regions: dict[str, Region], ca_file: str) -> Link:
    opts = mongo_tls_options(uri)
    hosts = mongo_hosts(uri)
    srv = hosts[0].host if opts.srv else ""
    return Link("app_server", dst, regions.get("app_server"), regions.get(dst), opts.enabled, opts.describe(),
                () if srv else hosts, srv, ca_file or opts.ca_file, opts.weakening())


def _file_store_link(target: Target, regions: dict[str, Region]) -> Link:
    files = target.files
    assert files is not None
    if files.adapter == "gridfs":
        return _mongo_link(files.gridfs_uri or target.database.uri, "file_store", regions,
                           target.database.tls_ca_file)
    url = files.endpoint_url or _default_store_url(files.adapter, files.region)
    https = urlsplit(url).scheme.lower() == "https"
    return Link("app_server", "file_store", regions.get("app_server"), regions.get("file_store"), https,
                f"{files.adapter} endpoint over {'https' if https else 'http (plaintext)'}", (url_host(url),))


def _default_store_url(adapter: str, region: str) -> str:
    if adapter == "gcs":
        return "https://storage.googleapis.com"
    return f"https://s3.{region or 'us-east-1'}.amazonaws.com"


# -- hosts ---------------------------------------------------------------------------------------------------
def url_host(url: str) -> HostPort:
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    return HostPort(parts.hostname or "", parts.port or default)


def mongo_hosts(uri: str) -> tuple[HostPort, ...]:
    """Every host of a MongoDB URI (the seed list of a replica set); the SRV name itself for +srv."""
    authority = uri.partition("://")[2].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return tuple(_host_port(item, MONGO_PORT) for item in authority.split(",") if item)


def _host_port(item: str, default: int) -> HostPort:
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return HostPort(host, int(rest[1:]) if rest.startswith(":") else default)
    host, _, port = item.partition(":")
    return HostPort(host, int(port) if port else default)


def link_hosts(link: Link, timeout: float) -> tuple[HostPort, ...]:
    """The hosts to probe for a link: the configured ones, or the SRV records of a mongodb+srv name."""
    return resolve_srv(link.srv_name, timeout) if link.srv_name else link.hosts


def resolve_srv(name: str, timeout: float, resolver: Any = None) -> tuple[HostPort, ...]:
    """``_mongodb._tcp.<name>`` SRV records as hosts, sorted; typed errors when DNS cannot answer.
    ``resolver``: a ``dns.resolver.Resolver`` (default: the system's configuration)."""
    import dns.exception
    import dns.resolver

    resolve = (resolver or dns.resolver).resolve
    try:
        answer = resolve(f"_mongodb._tcp.{name}", "SRV", lifetime=timeout)
    except dns.exception.Timeout as exc:
        raise TargetTimeout(f"SRV lookup of {name}: no DNS answer within {timeout:g} s") from exc
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers) as exc:
        raise TargetUnreachable(f"SRV lookup of _mongodb._tcp.{name} failed: {exc}") from exc
    hosts = sorted(HostPort(str(r.target).rstrip("."), int(r.port)) for r in answer)
    if not hosts:
        raise UnexpectedAnswer(f"SRV lookup of _mongodb._tcp.{name}: no records")
    return tuple(hosts)
