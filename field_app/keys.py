"""Where the device store's 32-byte data key lives.

The store (field_app/store/sealed.py) encrypts personal fields with one random data
key; this module keeps that key somewhere the database file is not:

- phones (Android, iOS): the platform keystore, through flet-secure-storage
  (Android Keystore-wrapped preferences; the iOS Keychain, this device only).
  A copy of the app's files without the keystore is ciphertext.
- desktop, and web mode: a key file next to the database, readable only by
  the user (0600). In web mode (`gocua-app --web`) the app's Python, its
  database and this key file all live on the machine running the server
  process; the browser holds nothing. On these platforms the key file is
  protected by the same file permissions as the database: the encryption
  still makes a copy of the database alone unreadable, and lets a purge
  destroy everything by deleting 32 bytes.

`provider_for(page, data_dir)` picks one. A purge calls `destroy()`: even a
copy of the old database taken before the purge can no longer be read.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import os
import stat
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .crypto import KEY_BYTES, Cipher

if TYPE_CHECKING:  # flet is only needed on the phone path
    import flet as ft

KEY_FILE = "gocua.key"  # next to gocua.db
SECURE_STORAGE_NAME = "gocua.data_key.v1"  # the entry in the platform keystore
PHONES = frozenset({"android", "ios"})

T = TypeVar("T")


class KeyUnavailable(RuntimeError):
    """The data key cannot be read or made (keystore error, unreadable or corrupt key file)."""


class InsecureKeyFile(KeyUnavailable):
    """The key file can be read by other users: refused rather than used."""


@runtime_checkable
class KeyProvider(Protocol):
    """Keeps one 32-byte data key."""

    def load_or_create(self) -> bytes:
        """The key; a new random one is made and kept the first time."""
        ...

    def destroy(self) -> None:
        """Forget the key for good (a purge). The next load_or_create() makes a new one."""
        ...


def _check_key(raw: bytes, where: str) -> bytes:
    if len(raw) != KEY_BYTES:
        raise KeyUnavailable(f"{where} does not hold a {KEY_BYTES}-byte key ({len(raw)} bytes): it is damaged")
    return raw


def _fsync_dir(directory: Path) -> None:
    """Make a created or removed name durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class FileKeyProvider:
    """The key as 32 raw bytes in a file only its owner can read (desktop, web-mode server).

    Creation writes a temporary file opened with O_CREAT|O_EXCL and mode 0600,
    fsyncs it, then hard-links it to the final name: the key file appears whole
    or not at all, and two processes starting at once agree on one key (the
    loser of the link reads the winner's). An existing key file readable or
    writable by group or others is refused (InsecureKeyFile), not repaired:
    someone may already have copied it. POSIX permissions only; on Windows the
    file inherits the user profile's ACL.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileKeyProvider({str(self.path)!r})"

    def load_or_create(self) -> bytes:
        try:
            return self._read()
        except FileNotFoundError:
            pass
        try:
            return self._create()
        except OSError as exc:  # no space, read-only data dir, a file system without hard links …
            raise KeyUnavailable(f"cannot create the key file {self.path}: {exc.strerror or exc}") from exc

    def _read(self) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise KeyUnavailable(f"cannot open the key file {self.path}: {exc.strerror or exc}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise KeyUnavailable(f"the key file {self.path} is not a regular file")
            if os.name == "posix" and info.st_mode & 0o077:
                raise InsecureKeyFile(
                    f"the key file {self.path} can be read or changed by other users "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); it protects personal data and must be "
                    f"readable by its owner only. If nobody else could have copied it: chmod 600 {self.path}")
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                raise InsecureKeyFile(f"the key file {self.path} belongs to another user (uid {info.st_uid})")
            raw = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        return _check_key(raw, f"the key file {self.path}")

    def _create(self) -> bytes:
        key = Cipher.new_key()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:  # a leftover of a crash with our pid: it never became the key
            tmp.unlink()
            fd = os.open(tmp, flags, 0o600)
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)  # whatever the umask
                os.write(fd, key)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.path)  # atomic, and never replaces an existing key
            except FileExistsError:
                return self._read()  # another process made it first: use theirs
            _fsync_dir(self.path.parent)
            return key
        finally:
            tmp.unlink(missing_ok=True)

    def destroy(self) -> None:
        """Overwrite (best effort: flash storage may keep old blocks) and delete the key file."""
        try:
            fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise KeyUnavailable(f"cannot delete the key file {self.path}: {exc.strerror or exc}") from exc
        try:
            os.write(fd, bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise KeyUnavailable(f"cannot delete the key file {self.path}: {exc.strerror or exc}") from exc
        _fsync_dir(self.path.parent)


class SecureStorageKeyProvider:
    """The key, base64, in the platform keystore through flet-secure-storage (phones).

    flet-secure-storage is a Flet *service*: constructing `SecureStorage()` while
    a page is the current context registers it with that page, and its methods
    are coroutines answered by the Flutter side over the page's session. The
    store is opened from ordinary threads (Flet runs a sync `main(page)` and the
    background sync in worker threads), so `load_or_create()` and `destroy()`
    schedule the coroutine on the page's event loop with `page.run_task` (which
    also binds the page as the context, so the service registers there) and
    wait for it. Called on the event-loop thread itself they would deadlock:
    they raise instead; async code awaits `aload_or_create()` / `adestroy()`.

    Options: on Android `reset_on_error=False` (the plugin's default silently
    wipes every entry when its keystore key fails; we would rather report the
    error than make a new key that cannot open the existing data); on iOS the
    Keychain item is `unlocked_this_device`: readable while the phone is
    unlocked, never synced to iCloud nor restored onto another phone.
    """

    def __init__(self, page: ft.Page, *, name: str = SECURE_STORAGE_NAME, timeout: float = 20.0,
                 storage: Any = None) -> None:
        self.page = page
        self.name = name
        self.timeout = timeout
        self._storage = storage  # tests hand in a fake with async get/set/remove

    def __repr__(self) -> str:
        return f"SecureStorageKeyProvider(name={self.name!r})"

    def _service(self) -> Any:
        if self._storage is None:
            import flet_secure_storage as fss

            self._storage = fss.SecureStorage(
                android_options=fss.AndroidOptions(reset_on_error=False),
                ios_options=fss.IOSOptions(accessibility=fss.KeychainAccessibility.UNLOCKED_THIS_DEVICE),
            )
        return self._storage

    async def aload_or_create(self) -> bytes:
        storage = self._service()
        try:
            stored = await storage.get(self.name)
            if stored:
                try:
                    return _check_key(base64.b64decode(stored, validate=True), "the keystore entry")
                except (binascii.Error, ValueError) as exc:
                    raise KeyUnavailable("the keystore entry for the data key is damaged") from exc
            key = Cipher.new_key()
            encoded = base64.b64encode(key).decode("ascii")
            await storage.set(self.name, encoded)
            if await storage.get(self.name) != encoded:  # a keystore that silently drops writes
                raise KeyUnavailable("the phone's secure storage did not keep the data key")
            return key
        except KeyUnavailable:
            raise
        except Exception as exc:  # the plugin's errors arrive as generic exceptions from the session
            raise KeyUnavailable(f"the phone's secure storage failed: {exc}") from exc

    async def adestroy(self) -> None:
        try:
            await self._service().remove(self.name)
        except Exception as exc:
            raise KeyUnavailable(f"the phone's secure storage could not delete the data key: {exc}") from exc

    def load_or_create(self) -> bytes:
        return self._wait(self.aload_or_create)

    def destroy(self) -> None:
        self._wait(self.adestroy)

    def _wait(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        loop = self.page.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("SecureStorageKeyProvider: blocking call on the page's event loop would deadlock; "
                               "await aload_or_create() / adestroy() there, or call from a worker thread")
        future = self.page.run_task(coroutine)
        try:
            return future.result(timeout=self.timeout)
        except TimeoutError as exc:  # concurrent.futures.TimeoutError is TimeoutError on 3.11
            future.cancel()
            raise KeyUnavailable(f"the phone's secure storage did not answer in {self.timeout:g} s") from exc


def is_phone(page: Any) -> bool:
    """A native app on Android or iOS. A browser on a phone is web mode: page.web wins."""
    if page is None or getattr(page, "web", False):
        return False
    platform = getattr(page, "platform", None)
    return getattr(platform, "value", platform) in PHONES


def provider_for(page: ft.Page | None, data_dir: str | os.PathLike[str]) -> KeyProvider:
    """The key's home for this app: the keystore on a phone, else `data_dir/gocua.key`.

    Web mode (`gocua-app --web`) always gets the key file: the database and the
    key are on the machine running the server process, whatever device the
    browser runs on (page.platform then names the browser's OS, hence page.web
    is checked first)."""
    if page is not None and is_phone(page):
        return SecureStorageKeyProvider(page)
    return FileKeyProvider(Path(data_dir) / KEY_FILE)
