"""What the device store raises (an invalid change is campaign.events.InvalidEvent instead)."""
from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot do what was asked (not an invalid event: see InvalidEvent)."""


class NotSignedIn(StoreError):
    """Recording needs a device identity: enrol first."""


class StoreLocked(StoreError):
    """The data key is not available (keystore error, missing or insecure key file): nothing can be read."""


class WrongKey(StoreLocked):
    """The data key does not open this file: the key was lost or replaced, or the file is another install's."""


class Tampered(StoreError):
    """A stored value failed authentication (AES-GCM tag): the file was changed outside the app or is damaged."""
