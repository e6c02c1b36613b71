"""Results several per message (result_batches.py and the ResultReporter), without a server: the
pure pieces, and the reporter on a scripted ReportResults call that announces batches or, like an
older server, does not."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Optional

import pytest

from jq_worker._proto import worker_service_pb2 as ws
from jq_worker.result_batches import BatchLimits, batch_limits_from, chunk_by_limits, estimate_result_bytes
from jq_worker.results import failure, success
from jq_worker.streams import ResultReporter

ANNOUNCE = [("jq-max-results-per-message", "1000"), ("jq-max-message-bytes", str(4 * 1024 * 1024))]


# ---- the pure pieces ---------------------------------------------------------------------------


def test_limits_come_from_both_headers_and_take_half_the_message_limit_up_to_1_mib():
    assert batch_limits_from(ANNOUNCE) == BatchLimits(max_items=1000, max_bytes=1024 * 1024)
    assert batch_limits_from([("jq-max-results-per-message", "50"), ("jq-max-message-bytes", "1000")]) == BatchLimits(50, 500)


@pytest.mark.parametrize(
    "headers",
    [
        None,
        [],  # an older server
        [("jq-max-results-per-message", "1000")],
        [("jq-max-message-bytes", "4194304")],
        [("jq-max-results-per-message", "1"), ("jq-max-message-bytes", "4194304")],
        [("jq-max-results-per-message", "-5"), ("jq-max-message-bytes", "4194304")],
        [("jq-max-results-per-message", "lots"), ("jq-max-message-bytes", "4194304")],
        [("jq-max-results-per-message", "²"), ("jq-max-message-bytes", "4194304")],
    ],
)
def test_no_batches_without_usable_headers(headers):
    assert batch_limits_from(headers) is None


def test_result_size_estimate_is_an_upper_bound():
    assert estimate_result_bytes(success("j", 1, b"x" * 100)) == 164
    message = "é" * 10
    assert estimate_result_bytes(failure("j", 1, RuntimeError(message))) == 64 + 40 >= 64 + len(message.encode())
    assert estimate_result_bytes(ws.JobResult(job_id="j", attempt=1)) == 64


def test_chunks_are_cut_by_count_and_bytes_in_order_and_a_big_item_goes_alone():
    limits = BatchLimits(max_items=3, max_bytes=10)
    assert chunk_by_limits([1, 2, 3, 4, 5, 6, 7], lambda _: 1, limits) == [[1, 2, 3], [4, 5, 6], [7]]
    assert chunk_by_limits([4, 4, 4, 20, 1], lambda n: n, limits) == [[4, 4], [4], [20], [1]]
    assert chunk_by_limits([], lambda n: n, limits) == []


# ---- the reporter on a scripted call -----------------------------------------------------------


class ScriptedCall:
    """A ReportResults call: records what is written, sends headers and responses when told."""

    def __init__(self) -> None:
        self.written: list[ws.ReportResultsRequest] = []
        self.half_closed = False
        self.cancelled = False
        self._headers: asyncio.Future = asyncio.get_running_loop().create_future()
        self._responses: asyncio.Queue = asyncio.Queue()

    def send_headers(self, headers: list[tuple[str, str]]) -> None:
        self._headers.set_result(headers)

    def respond(self, response: ws.ReportResultsResponse) -> None:
        if not self._headers.done():
            self._headers.set_result([])  # headers go with the first response
        self._responses.put_nowait(response)

    async def initial_metadata(self) -> list[tuple[str, str]]:
        return await self._headers

    async def write(self, request: ws.ReportResultsRequest) -> None:
        self.written.append(request)

    async def done_writing(self) -> None:
        self.half_closed = True
        self._responses.put_nowait(None)  # the server ends the stream once it has acked all

    async def read(self) -> Any:
        import grpc.aio

        response = await self._responses.get()
        if response is None:
            return grpc.aio.EOF
        if response == "cancelled":
            raise asyncio.CancelledError()
        return response

    def cancel(self) -> None:
        self.cancelled = True
        if not self._headers.done():
            self._headers.set_result([])
        self._responses.put_nowait("cancelled")

    def results(self) -> list[list[tuple[str, bool]]]:
        """Each message as [(job id, sent alone)]."""
        return [[(m.result.job_id, True)] if not m.results else [(r.result.job_id, False) for r in m.results] for m in self.written]

    def sequences(self) -> dict[str, int]:
        out = {}
        for m in self.written:
            for sequence, result in [(m.sequence, m.result)] if not m.results else [(r.sequence, r.result) for r in m.results]:
                out[result.job_id] = sequence
        return out


class Harness:
    def __init__(self) -> None:
        self.calls: list[ScriptedCall] = []
        self.acked: list[tuple[str, str]] = []
        self.ended: list[Optional[BaseException]] = []
        self.messages: Counter[str] = Counter()
        self.reporter = ResultReporter(
            self, [], lambda: "w-1",
            lambda key, result, ack: self.acked.append((key[0], ws.ResultAckCode.Name(ack.code))),
            lambda stream, error: self.ended.append(error),
            logging.getLogger("test"), self.messages,
        )

    def ReportResults(self, metadata: Any) -> ScriptedCall:  # the stub's method
        call = ScriptedCall()
        self.calls.append(call)
        return call

    def report(self, *job_ids: str) -> None:
        for job_id in job_ids:
            self.reporter.report((job_id, 1), success(job_id, 1, b"ok"))


async def settle() -> None:
    """Lets call_soon flushes, the writer and the reader run."""
    for _ in range(10):
        await asyncio.sleep(0)


def run(test) -> None:
    async def main() -> None:
        h = Harness()
        try:
            await test(h)
        finally:
            h.reporter.close()
            await settle()

    asyncio.run(main())


def test_each_result_goes_alone_when_the_server_announces_nothing():
    async def test(h: Harness) -> None:
        h.reporter.open()
        call = h.calls[0]
        h.report("a", "b", "c")  # in one loop iteration, before any header
        await settle()
        assert call.results() == [[("a", True)], [("b", True)], [("c", True)]]
        call.respond(ws.ReportResultsResponse(sequence=call.sequences()["a"], code=ws.RESULT_ACK_CODE_ACCEPTED))
        await settle()
        h.report("d", "e")  # the (empty) headers have arrived: still one per message
        await settle()
        assert call.results()[3:] == [[("d", True)], [("e", True)]]
        assert all(m.worker_id == "w-1" and m.sequence > 0 for m in call.written)
        assert h.acked == [("a", "RESULT_ACK_CODE_ACCEPTED")] and set(h.reporter.unacked) == {(j, 1) for j in "bcde"}
        assert h.messages == Counter(result=5, ack=1)

    run(test)


def test_results_of_one_iteration_share_messages_cut_at_the_announced_count():
    async def test(h: Harness) -> None:
        h.reporter.open()
        call = h.calls[0]
        call.send_headers([("jq-max-results-per-message", "2"), ("jq-max-message-bytes", "4194304")])
        await settle()
        h.report("a", "b", "c", "d", "e")
        await settle()
        assert call.results() == [[("a", False), ("b", False)], [("c", False), ("d", False)], [("e", False)]]
        assert all(m.sequence == 0 and not m.HasField("result") and m.worker_id == "w-1" for m in call.written)
        sequences = call.sequences()
        assert len(set(sequences.values())) == 5

        # The acks of a batch, together; one of them refused: each is handled alone.
        codes = {"a": ws.RESULT_ACK_CODE_ACCEPTED, "b": ws.RESULT_ACK_CODE_STALE}
        call.respond(ws.ReportResultsResponse(acks=[ws.ResultAck(sequence=sequences[j], code=codes[j]) for j in "ab"]))
        call.respond(ws.ReportResultsResponse(sequence=sequences["c"], code=ws.RESULT_ACK_CODE_ACCEPTED))
        await settle()
        assert h.acked == [("a", "RESULT_ACK_CODE_ACCEPTED"), ("b", "RESULT_ACK_CODE_STALE"), ("c", "RESULT_ACK_CODE_ACCEPTED")]
        assert set(h.reporter.unacked) == {("d", 1), ("e", 1)}
        assert h.messages == Counter(results=3, acks=1, ack=1)

    run(test)


def test_a_new_stream_resends_alone_and_a_batch_waiting_for_a_broken_stream_is_sent_once():
    async def test(h: Harness) -> None:
        h.reporter.open()
        first = h.calls[0]
        first.send_headers(ANNOUNCE)
        await settle()
        h.report("a", "b")
        await settle()
        assert first.results() == [[("a", False), ("b", False)]]
        h.report("c")  # waits for the next iteration...
        h.reporter.open()  # ...but its stream is replaced first
        second = h.calls[1]
        second.send_headers(ANNOUNCE)
        await settle()
        assert first.cancelled and first.results() == [[("a", False), ("b", False)]]
        # The resend is written before the headers can arrive: one per message, each once.
        assert second.results() == [[("a", True)], [("b", True)], [("c", True)]]
        h.report("d", "e")  # later results on the new stream are batched again
        await settle()
        assert second.results()[3:] == [[("d", False), ("e", False)]]

    run(test)


def test_half_close_sends_a_waiting_batch_first():
    async def test(h: Harness) -> None:
        h.reporter.open()
        call = h.calls[0]
        call.send_headers(ANNOUNCE)
        await settle()
        h.report("a", "b")
        await h.reporter.half_close(1.0)  # in the same iteration as the reports
        assert call.results() == [[("a", False), ("b", False)]] and call.half_closed

    run(test)
