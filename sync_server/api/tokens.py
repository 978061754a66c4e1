"""POST /api/v1/token/rotate: a new token for the calling device; the old one dies at once.
POST /api/v1/device/sign-out: the calling device signs out; its token dies at once."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from ..errors import responses
from ..services import enrolment, signout
from ..services.errors import ServiceError
from .deps import Caller, bearer_token, caller, refused, writing

router = APIRouter()


class TokenAnswer(BaseModel):
    token: str


@router.post("/api/v1/token/rotate", response_model=TokenAnswer, responses=responses(401, 403, 410, 429))
def rotate(request: Request, who: Caller = Depends(caller)) -> TokenAnswer:
    """Replace this device's token. The answer holds the new token, shown only once; the token
    that made the request is refused (401) from the next request on. Any role; nothing else changes
    (device id, seq, scope). A device that loses this answer has lost its identity: it enrols again."""
    with writing(request) as conn:
        return TokenAnswer(token=enrolment.rotate(conn, who))


class SignedOut(BaseModel):
    signed_out: bool  # true: this request ended the device; false: it had ended already


@router.post("/api/v1/device/sign-out", response_model=SignedOut, responses=responses(401, 429))
def sign_out(request: Request, token: str = Depends(bearer_token)) -> SignedOut:
    """The device that sends this token signs out: it is revoked (403 `revoked` from the next
    request on), audited (device.sign_out). Idempotent: a device revoked or retired already is
    answered `signed_out: false` and nothing changes; a token no device holds, 401 as anywhere.
    Either spends one of the address's refused-token allowance, as elsewhere."""
    try:
        with writing(request) as conn:
            done = signout.sign_out(conn, token)
    except ServiceError:
        refused(request)
        raise
    if not done:
        refused(request)
    return SignedOut(signed_out=done)
