from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..errors import ApiError, responses
from ..store import devices
from ..store.db import write_transaction

router = APIRouter()


class EnrolRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64)


class EnrolAnswer(BaseModel):
    device_id: str
    token: str
    role: str
    scope: dict


@router.post("/api/v1/enroll", response_model=EnrolAnswer, responses=responses(400, 410))
def enroll(body: EnrolRequest, request: Request) -> EnrolAnswer:
    """Spend a one-time enrolment code: the answer holds the device's token, shown only once."""
    with write_transaction(request.app.state.engine) as conn:
        try:
            device, token = devices.enrol(conn, body.code)
        except devices.EnrolError as bad:
            status = 400 if bad.code == "unknown_code" else 410
            raise ApiError(status, bad.code, bad.detail) from None
    return EnrolAnswer(device_id=device.id, token=token, role=device.role, scope=device.scope())
