"""POST /api/v1/enroll: spend a one-time code, get the device's token."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ..errors import responses
from ..services import enrolment, relay, relay_down
from ..services.errors import ServiceError
from .deps import client_address, limits_of, optional_token, writing

router = APIRouter()


class EnrolRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str | None = Field(None, max_length=200,
                             description="the holder's name typed on the phone (at most 60 characters once "
                                         "trimmed); the code's own name, when it has one, wins")
    # the phone's Ed25519 public key (base64url) for the sealed relay; older phones send none
    # and register it later (POST /api/v1/sync/sign-key)
    sign_key: str | None = Field(None, min_length=43, max_length=43)
    # the phone's X25519 public key (base64url): leaders' down bundles are sealed to it
    box_key: str | None = Field(None, min_length=43, max_length=43)


class EnrolAnswer(BaseModel):
    device_id: str
    token: str
    role: str
    scope: dict[str, Any]
    name: str | None = Field(None, description="who holds the phone (the code's name, the typed one, or the "
                                                "replaced device's); null when never told")


@router.post("/api/v1/enroll", response_model=EnrolAnswer, responses=responses(400, 410, 429))
def enroll(body: EnrolRequest, request: Request,
           previous_token: str | None = Depends(optional_token)) -> EnrolAnswer:
    """Spend a one-time enrolment code: the answer holds the device's token, shown only once.

    A phone enrolling again sends its old token as `Authorization: Bearer OLD`: the old device
    record is revoked in the same transaction (an unknown or revoked old token changes nothing).
    Failed attempts (unknown, used or expired codes) are limited per client address: 429."""
    limits, address = limits_of(request), client_address(request)
    if limits is not None:
        limits.enrol_failures.check(address)
    try:
        with writing(request) as conn:
            device, token = enrolment.enrol(conn, body.code, previous_token=previous_token, name=body.name)
            if body.sign_key is not None:  # a bad key refuses the enrolment whole: the code is not spent
                relay.register_key(conn, device.id, body.sign_key)
            if body.box_key is not None:
                relay_down.register_box_key(conn, device.id, body.box_key)
    except ServiceError:
        if limits is not None:
            limits.enrol_failures.spend(address)
        raise
    return EnrolAnswer(device_id=device.id, token=token, role=device.role, scope=device.scope(),
                       name=device.name)
