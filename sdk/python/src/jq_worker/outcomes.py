"""What an acknowledgement means for the delivery it ends (docs/worker-sdk.md, "Observing")."""

from __future__ import annotations

from typing import Union

from ._proto import worker_service_pb2 as ws

#: One result's acknowledgement: a response of its own, or one of a response's `acks` (the acks
#: of a message that carried several results). Both have sequence, code, message and job_status.
Ack = Union[ws.ReportResultsResponse, ws.ResultAck]


def outcome_of_ack(result: ws.JobResult, ack: Ack) -> tuple[str, str]:
    """(outcome, ack code name): ACCEPTED counts as succeeded or failed by what was reported,
    STALE and NOT_FOUND as stale (nothing recorded), INVALID and unknown codes as invalid."""
    code = ws.ResultAckCode.Name(ack.code) if ack.code in ws.ResultAckCode.values() else str(ack.code)
    if ack.code == ws.RESULT_ACK_CODE_ACCEPTED:
        return ("succeeded" if result.WhichOneof("outcome") == "success" else "failed"), code
    if ack.code in (ws.RESULT_ACK_CODE_STALE, ws.RESULT_ACK_CODE_NOT_FOUND):
        return "stale", code
    return "invalid", code
