"""One tree of typed errors; every message says what to do next.

    CutoverError
    ├── ConfigError            the targets/waivers file is wrong: fix the file (usage error, exit 4)
    │   └── KeyFileError       a signing or public key file is missing, unreadable, not private or not Ed25519
    ├── CouldNotVerify         a fact could not be fetched: the check ERRORs, never PASSes
    │   ├── TargetUnreachable  connection refused, DNS failure, TLS failure before any answer
    │   ├── TargetTimeout      the peer did not answer within the configured timeout
    │   ├── UnexpectedAnswer   the peer answered something we cannot interpret
    │   └── CommandRefused     the suite refused to send a command outside its allowlist (never sent)
    └── SandboxError           the embedded sandbox could not start a component (names it and its log)
"""
from __future__ import annotations


class CutoverError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(CutoverError):
    """The configuration is invalid; the message is one line naming file, key and what is expected."""


class KeyFileError(ConfigError):
    """A key for signed archives cannot be used; the message never names a private key's path or contents."""


class CouldNotVerify(CutoverError):
    """A fact could not be established; a check that meets this reports ERROR, not FAIL or PASS."""


class TargetUnreachable(CouldNotVerify):
    """The component could not be reached at all."""


class TargetTimeout(CouldNotVerify):
    """The component did not answer in time."""


class UnexpectedAnswer(CouldNotVerify):
    """The component answered, but not in a form we can judge."""


class CommandRefused(CouldNotVerify):
    """A command outside the suite's allowlist (cutover.data.commands) was asked for; it was not sent."""


class SandboxError(CutoverError):
    """A sandbox component failed to start or stop; the message names it and its log file."""


_UNREACHABLE = {
    "pymongo.errors": ("ConnectionFailure", "ExecutionTimeout", "WaitQueueTimeoutError"),
    "requests.exceptions": ("ConnectionError", "Timeout"),
    "httpx": ("TransportError",),
    "botocore.exceptions": ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                            "ConnectionClosedError"),
    "builtins": ("ConnectionError", "TimeoutError"),
}


def as_could_not_verify(exc: BaseException) -> CouldNotVerify | None:
    """A CouldNotVerify for a client library's 'unreachable / timed out' exception, else None.

    The library translates these itself; this is the safety net that keeps an unreachable component from
    ever being reported as a plain failure of the criterion.
    """
    if isinstance(exc, CouldNotVerify):
        return exc
    for cls in type(exc).__mro__:
        if cls.__name__ in _UNREACHABLE.get(cls.__module__, ()):
            kind = TargetTimeout if "imeout" in cls.__name__ else TargetUnreachable
            first_line = str(exc).splitlines()[0] if str(exc) else cls.__name__
            return kind(f"{cls.__name__}: {first_line[:300]}")
    return None
