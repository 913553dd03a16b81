"""Redaction: URI passwords and known secret values never survive into text we write or print."""
from __future__ import annotations

import pytest

from cutover.redact import MASK, host_of, redact_text, redact_uri, uri_password


@pytest.mark.parametrize(("uri", "password"), [
    ("mongodb://user:s3cret@h:27017/db", "s3cret"),
    ("mongodb+srv://user:p%40ss@cluster.example.net/app", "p%40ss"),
    ("mongodb://user:p@ss@h/db", "p@ss"),
    ("mongodb://user@h/db", ""),
    ("mongodb://h/db", ""),
    ("mongodb://user:pw@h:99999/db", "pw"),
    ("not a uri", ""),
])
def test_uri_password(uri: str, password: str) -> None:
    assert uri_password(uri) == password


@pytest.mark.parametrize(("uri", "redacted"), [
    ("mongodb://user:s3cret@h:27017/db?tls=true", f"mongodb://user:{MASK}@h:27017/db?tls=true"),
    ("mongodb://user:p@ss@h/db", f"mongodb://user:{MASK}@h/db"),
    ("mongodb://u:pw@h1:1,h2:2/db?x=a@b", f"mongodb://u:{MASK}@h1:1,h2:2/db?x=a@b"),
    ("mongodb://h/db?note=a:b@c", "mongodb://h/db?note=a:b@c"),
    ("https://h/parse", "https://h/parse"),
])
def test_redact_uri_masks_only_the_password(uri: str, redacted: str) -> None:
    assert redact_uri(uri) == redacted


@pytest.mark.parametrize(("uri", "shown"), [
    ("mongodb://user:s3cret@db.example.com:27017/app?authSource=admin", "mongodb://db.example.com:27017"),
    ("https://api.example.com/parse/classes", "https://api.example.com"),
    ("mongodb://[::1]:27017/db", "mongodb://[::1]:27017"),
    ("mongodb://u:p@h:99999/db", "(unparseable URI)"),
])
def test_host_of_never_carries_credentials_or_paths(uri: str, shown: str) -> None:
    assert host_of(uri) == shown


def test_redact_text_masks_known_secrets_longest_first() -> None:
    text = "key=abcd-1234 prefix=abcd url=mongodb://app:hunter22@db/x"
    out = redact_text(text, ["abcd", "abcd-1234", "xy"])
    assert out == f"key={MASK} prefix={MASK} url=mongodb://app:{MASK}@db/x"


def test_every_password_after_a_scheme_is_masked_and_nothing_without_one() -> None:
    text = "a mongodb+srv://u:p1@h, A HTTPS://v:p2@h, 9+://w:p3@h, then ://x:p4@h and u:p5@h"
    assert redact_text(text, []) == (f"a mongodb+srv://u:{MASK}@h, A HTTPS://v:{MASK}@h, 9+://w:{MASK}@h, then "
                                     "://x:p4@h and u:p5@h")


def test_redact_text_ignores_tiny_secrets() -> None:
    assert redact_text("a b c xyz", ["a", "xyz"]) == "a b c xyz"


def test_known_secret_with_an_at_sign_is_masked_whole() -> None:
    out = redact_text("failed: mongodb://u:p@ss-word@h/db and again p@ss-word", ["p@ss-word"])
    assert "p@ss" not in out and "ss-word" not in out
    assert out == f"failed: mongodb://u:{MASK}@h/db and again {MASK}"


def test_redact_text_masks_every_occurrence_across_lines() -> None:
    out = redact_text("Secret123\nline Secret123 end\n", ["Secret123"])
    assert out == f"{MASK}\nline {MASK} end\n"
