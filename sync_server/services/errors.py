"""What a use case refuses, and why: one small tree, with the stable codes of the wire.

```
ServiceError             code + detail (+ extra fields for the answer)
├── Invalid              the input is wrong                      (HTTP 400)
├── Unauthenticated      no such token                           (401)
├── Forbidden            outside the caller's role or scope      (403)
├── NotFound             no such thing                           (404)
├── Conflict             the state forbids it (a seq gap)        (409)
├── Gone                 it was, and is no more (a spent code)   (410)
├── TooLarge             more than a limit                       (413)
├── Unsupported          a format this server does not read      (415)
└── Refused              understood, and refused whole           (422)
```

Services raise these and never see HTTP; `sync_server/errors.py` turns them into
answers (the statuses above) at the API's edge, and the command line prints their
detail.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class Invalid(ServiceError):
    pass


class Unauthenticated(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Gone(ServiceError):
    pass


class TooLarge(ServiceError):
    pass


class Unsupported(ServiceError):
    pass


class Refused(ServiceError):
    pass
