"""The secret key that hashes patient and encounter ids, and the keyed hash itself.

The ledger never holds a name, an MRN or a raw id: only HMAC-SHA256 of ``Kind/id`` under a
configured secret (or one generated once into the instance directory).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

_HASH_KEY_FILE = "hash_key"


def load_or_create_hash_key(instance_dir: str | os.PathLike[str]) -> bytes:
    """Read ``<instance>/hash_key``, creating it (random, mode 0600) exactly once.

    Safe when several workers start at once: the key is written to a temporary file and linked
    into place, so a reader never sees a half-written key and only one key ever wins.
    """
    directory = Path(instance_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _HASH_KEY_FILE
    if not target.exists():
        tmp = directory / f".{_HASH_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(tmp, target)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return target.read_text(encoding="ascii").strip().encode("ascii")


def hash_key_from_config(value: str | bytes | None, instance_dir: str | os.PathLike[str]) -> bytes:
    """The HMAC key: the configured ``hash_key``, or the one kept in the instance directory."""
    if isinstance(value, bytes):
        return value
    if value:
        return value.encode("utf-8")
    return load_or_create_hash_key(instance_dir)


def reference_id(kind: str, value: str) -> str:
    """``Patient/123``, ``123`` and ``https://x/fhir/Patient/123`` all name patient 123."""
    ident = value.strip()
    parts = ident.rstrip("/").split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == kind:
        return parts[-1]
    return ident


def keyed_hash(key: bytes | None, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``Kind/id`` under ``key``, as hex."""
    if not key:
        raise RuntimeError("this store was opened without a hash_key; it cannot record cards")
    message = f"{kind}/{reference_id(kind, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
