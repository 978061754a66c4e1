"""Authenticated encryption of single values for the device store.

Why this shape:

- AES-256-GCM (cryptography's AESGCM), never a hand-rolled construction. GCM
  authenticates as well as encrypts: a changed byte, a truncated value or the
  wrong key fails the tag check instead of decrypting to garbage.
- A fresh random 96-bit nonce per value. One key encrypts at most some
  hundreds of thousands of values on a phone over a campaign, far below the
  2^32 messages after which random GCM nonces start to risk a repeat.
- A version byte in front, so that a later algorithm or key scheme can live
  beside this one in the same file and be migrated value by value.
- Associated data that names where the value lives (table, column, row key)
  and the version byte: a ciphertext copied into another row or column (the
  address of one household pasted over another's, a token moved into a note)
  fails to decrypt, although the attacker never needed the key to do the copy.

Layout of a sealed value: version (1 byte) | nonce (12 bytes) | ciphertext + tag (16 bytes).
"""
from __future__ import annotations

import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits: GCM's native nonce size
TAG_BYTES = 16
OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES


class DecryptionFailed(ValueError):
    """The value does not open with this key in this place: wrong key, tampered, moved or truncated.

    GCM cannot tell these apart, by design; the caller knows which one is likely."""


@functools.lru_cache(maxsize=64)
def _prefix(table: str, column: str) -> bytes:
    if "\x00" in table or "\x00" in column:
        raise ValueError("a table or column name must not contain NUL")
    return f"gocua\x00{table}\x00{column}\x00".encode()


def place(table: str, column: str, row: str | int) -> bytes:
    """The associated data naming a value's place. NUL separates the parts: none of them contains one."""
    row = str(row)
    if "\x00" in row:
        raise ValueError("a row key must not contain NUL")
    return _prefix(table, column) + row.encode("utf-8")


class Cipher:
    """Seals and opens single values with one 32-byte key."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != KEY_BYTES:
            raise ValueError(f"the data key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(bytes(key))

    @staticmethod
    def new_key() -> bytes:
        """A fresh random data key (os.urandom: the platform's CSPRNG)."""
        return os.urandom(KEY_BYTES)

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        """Encrypt `plaintext` for the place `where` (see place())."""
        header = bytes([VERSION])
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + self._aead.encrypt(nonce, plaintext, header + where)

    def open(self, sealed: bytes, where: bytes) -> bytes:
        """Decrypt a value sealed for `where`; DecryptionFailed if it does not authenticate."""
        if type(sealed) is not bytes:  # what sqlite3 returns for a BLOB; anything else is not ours
            if not isinstance(sealed, (bytearray, memoryview)):
                raise DecryptionFailed(f"expected an encrypted value, found {type(sealed).__name__}")
            sealed = bytes(sealed)
        if len(sealed) < OVERHEAD:
            raise DecryptionFailed("encrypted value too short")
        if sealed[0] != VERSION:
            raise DecryptionFailed(f"unknown encryption version {sealed[0]}")
        try:
            return self._aead.decrypt(sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:], sealed[:1] + where)
        except InvalidTag:
            raise DecryptionFailed("authentication failed") from None
