"""Unit tests of the pure pieces: result encoding and the reconnect backoff."""

import pytest

from jq_worker import NonRetryableError
from jq_worker.backoff import ReconnectBackoff
from jq_worker.options import check_options
from jq_worker.results import failure, success


@pytest.mark.parametrize("value, expected", [(b"x", b"x"), (bytearray(b"y"), b"y"), ("é", "é".encode()), (None, b"")])
def test_success_encodes_bytes_str_and_none(value, expected):
    result = success("j", 1, value)
    assert result.WhichOneof("outcome") == "success" and result.success.result == expected


def test_other_return_values_fail_with_a_type_error():
    result = success("j", 2, {"a": 1})
    assert result.failure.message == "handler returned dict; expected bytes, str or None"
    assert not result.failure.HasField("retryable")


def test_failure_message_is_cut_and_retryable_only_sent_as_false():
    long = failure("j", 1, RuntimeError("x" * 5000))
    assert len(long.failure.message) == 4096 and not long.failure.HasField("retryable")
    fatal = failure("j", 1, NonRetryableError("bad"))
    assert fatal.failure.HasField("retryable") and fatal.failure.retryable is False
    assert failure("j", 1, KeyError()).failure.message == "KeyError"


def test_backoff_doubles_to_the_ceiling_with_half_jitter():
    backoff = ReconnectBackoff(0.1, 0.5, rand=lambda: 1.0)
    assert [round(backoff.next_delay(), 3) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    low = ReconnectBackoff(0.1, 0.5, rand=lambda: 0.0)
    assert round(low.next_delay(), 3) == 0.05


def test_options_are_checked_like_the_server_does():
    assert check_options("h:1", ["a", "b"], 8, 1, 1) == ["a", "b"]
    for queues in ([], ["a", "a"], ["bad name"]):
        with pytest.raises(ValueError):
            check_options("h:1", queues, 1, 1, 1)
    with pytest.raises(ValueError):
        check_options("h:1", ["a"], 1001, 1, 1)
    with pytest.raises(TypeError):
        check_options("h:1", "a", 1, 1, 1)


def test_ack_outcomes():
    from jq_worker._proto import worker_service_pb2 as ws
    from jq_worker.outcomes import outcome_of_ack

    ok, bad = success("j", 1, b""), failure("j", 1, ValueError("x"))
    ack = lambda code: ws.ReportResultsResponse(sequence=1, code=code)  # noqa: E731
    assert outcome_of_ack(ok, ack(ws.RESULT_ACK_CODE_ACCEPTED)) == ("succeeded", "RESULT_ACK_CODE_ACCEPTED")
    assert outcome_of_ack(bad, ack(ws.RESULT_ACK_CODE_ACCEPTED))[0] == "failed"
    assert outcome_of_ack(ok, ack(ws.RESULT_ACK_CODE_STALE))[0] == "stale"
    assert outcome_of_ack(ok, ack(ws.RESULT_ACK_CODE_NOT_FOUND))[0] == "stale"
    assert outcome_of_ack(ok, ack(ws.RESULT_ACK_CODE_INVALID))[0] == "invalid"
    assert outcome_of_ack(ok, ack(99)) == ("invalid", "99")


def test_connection_settings(tmp_path):
    import grpc

    from jq_worker import Tls
    from jq_worker.connection import call_metadata, channel_options, credentials

    assert call_metadata(None) == () and call_metadata("k1") == (("authorization", "Bearer k1"),)
    assert credentials(None) is None and credentials(False) is None
    assert isinstance(credentials(True), grpc.ChannelCredentials)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    assert isinstance(credentials(Tls(ca=ca)), grpc.ChannelCredentials)
    options = dict(channel_options(0.1, 5.0))
    assert options["grpc.max_reconnect_backoff_ms"] == 5000 and options["grpc.keepalive_time_ms"] == 30_000


def test_worker_needs_a_handler_and_checks_its_options():
    from jq_worker import Worker

    with pytest.raises(TypeError):
        Worker("127.0.0.1:1", queues=["a"])
    with pytest.raises(ValueError):
        Worker("127.0.0.1:1", queues=["a"], concurrency=0, handler=lambda job: None)
    assert Worker("127.0.0.1:1", ["a"], 2, lambda job: None).stats["received"] == 0
