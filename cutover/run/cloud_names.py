"""Names the clouds define: bucket names, regions and GCS locations, checked as each provider documents them.

- S3 bucket names (AWS "Bucket naming rules"): 3 to 63 characters, lowercase letters, digits, '.' and '-',
  beginning and ending with a letter or digit, not an IP address, no '..'. Buckets created in us-east-1 before
  March 2018 may also hold uppercase letters and '_' and run to 255 characters: a Parse-era app may well have one,
  so such a name is accepted where the region allows it (us-east-1, undeclared, or an S3-compatible endpoint).
- GCS bucket names ("Bucket naming guidelines"): 3 to 63 characters (222 with dots, each part at most 63),
  lowercase letters, digits, '-', '_' and '.', beginning and ending with a letter or digit, never "goog..." nor
  "google" in it.
- AWS regions: ``<area>-<direction>-<n>`` (eu-west-1, us-gov-west-1, ap-southeast-4) in AWS's geographic areas;
  GCS locations: a region (europe-west1), a multi-region (EU, US, ASIA) or a dual-region (NAM4, EUR4, ...), any
  case; Azure regions: lowercase letters and a digit (westeurope, eastus2).
- A region of ``[targets.NAME.regions]`` is ``provider:region`` ("aws:eu-west-1") or ``internet``; aws, gcp and
  azure regions are checked as above, any other provider's name is taken as written (``onprem:dc1``).
Each function returns '' or what is wrong, in one phrase.
"""
from __future__ import annotations

import difflib
import ipaddress
import re

from cutover.redact import cut

_AWS_AREAS = ("us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "eusc")
_AWS_REGION = re.compile(r"(?P<area>[a-z]{2,4})(-(gov|iso[a-z]?|de))?-[a-z]+-\d+")
_GCS_LOCATION = re.compile(r"[a-z]+-[a-z]+\d+|us|eu|asia|nam\d+|eur\d+|asia\d+")
_AZURE_REGION = re.compile(r"[a-z]+\d?")
_MODERN_S3 = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_LEGACY_S3 = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")
_GCS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
PROVIDERS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}
_ALIASES = {"amazon": "aws", "s3": "aws", "google": "gcp", "gcs": "gcp", "gce": "gcp", "microsoft": "azure"}


def aws_region(region: str) -> str:
    match = _AWS_REGION.fullmatch(region)
    if match and match.group("area") in _AWS_AREAS:
        return ""
    if region == "EU":
        return "'EU' is S3's legacy name of eu-west-1 (GetBucketLocation's answer for old buckets): write eu-west-1"
    if re.fullmatch(r".*-\d+[a-z]", region):
        return f"'{region}' is an availability zone, not a region: drop the last letter"
    if region.lower() != region:
        return f"'{region}': AWS regions are lowercase (eu-west-1)"
    return f"'{region}' is not an AWS region (like eu-west-1, us-east-2, ap-southeast-1)"


def gcs_location(location: str) -> str:
    if _GCS_LOCATION.fullmatch(location.lower()):
        return ""
    return f"'{location}' is not a GCS location (a region like europe-west1, a multi-region EU, US or ASIA, " \
           "or a dual-region like NAM4)"


def component_region(text: str) -> str:
    """A ``[targets.NAME.regions]`` value: ``provider:region`` or ``internet``."""
    provider, sep, region = text.strip().partition(":")
    if text.strip() == "internet":
        return ""
    if not sep or not provider or not region:
        return (f"'{text}': expected provider:region (aws:eu-west-1, gcp:europe-west1, azure:westeurope) or "
                "internet; TLS-01 compares regions with their provider")
    if provider == "aws":
        return aws_region(region)
    if provider == "gcp":
        return gcs_location(region)
    if provider == "azure":
        return "" if _AZURE_REGION.fullmatch(region) else f"'{region}' is not an Azure region (like westeurope)"
    return _unknown_provider(provider)


def _unknown_provider(provider: str) -> str:
    known = _ALIASES.get(provider.lower()) or next(iter(difflib.get_close_matches(provider.lower(), PROVIDERS,
                                                                                   n=1, cutoff=0.6)), "")
    if known:
        return f"unknown provider '{provider}'; did you mean '{known}'?"
    if not re.fullmatch(r"[a-z][a-z0-9-]*", provider):
        return f"provider '{provider}': lowercase letters, digits and '-' (aws, gcp, azure, or your own: onprem)"
    return ""


def s3_bucket(name: str, region: str, compatible: bool) -> str:
    """An S3 bucket name; ``compatible``: the store is an S3-compatible endpoint, not AWS."""
    if hint := _bucket_shape(name):
        return hint
    if _ip_address(name):
        return f"'{name}' breaks S3's bucket naming rules: a bucket name is never an IP address"
    if _MODERN_S3.fullmatch(name) and ".." not in name:
        return ""
    legacy_ok = compatible or region in ("", "us-east-1")
    if legacy_ok and _LEGACY_S3.fullmatch(name):
        return ""
    where = "" if legacy_ok else f" (only buckets of us-east-1 made before 2018 may differ, and this is {region})"
    return (f"'{cut(name, 80)}' breaks S3's bucket naming rules: 3 to 63 lowercase letters, digits, '.' and '-', "
            f"beginning and ending with a letter or digit{where}")


def gcs_bucket(name: str) -> str:
    if hint := _bucket_shape(name):
        return hint
    parts_ok = all(0 < len(part) <= 63 for part in name.split("."))
    if _GCS_BUCKET.fullmatch(name) and parts_ok and (len(name) <= 63 or "." in name) and ".." not in name:
        if name.startswith("goog") or "google" in name:
            return f"'{name}': GCS refuses bucket names beginning with 'goog' or holding 'google'"
        return ""
    return (f"'{cut(name, 80)}' breaks GCS's bucket naming rules: 3 to 63 lowercase letters, digits, '-', '_' and "
            "'.', beginning and ending with a letter or digit")


def _bucket_shape(name: str) -> str:
    """The mistakes of shape: a URL or a path where the bare name belongs."""
    if "://" in name:
        return f"'{cut(name, 80)}': the bucket's name alone, without a scheme (bucket = \"my-files\")"
    if "/" in name:
        return f"'{cut(name, 80)}': the bucket's name alone; a path inside it goes into prefix"
    return ""


def _ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
