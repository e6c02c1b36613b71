"""Channels to the jq API: TLS or plaintext, keepalive, the API key as call metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import grpc
import grpc.aio


@dataclass(frozen=True)
class Tls:
    """TLS to the API. PEM contents (bytes) or file paths (str/Path); all optional: with none
    set the system's root certificates are used. cert+key give a client certificate."""

    ca: Union[bytes, str, Path, None] = None
    cert: Union[bytes, str, Path, None] = None
    key: Union[bytes, str, Path, None] = None


TlsOption = Union[Tls, bool, None]
Metadata = Sequence[tuple[str, str]]


def _pem(value: Union[bytes, str, Path, None]) -> Optional[bytes]:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def credentials(tls: TlsOption) -> Optional[grpc.ChannelCredentials]:
    if tls is None or tls is False:
        return None
    spec = Tls() if tls is True else tls
    return grpc.ssl_channel_credentials(_pem(spec.ca), _pem(spec.key), _pem(spec.cert))


#: The metadata header that carries a worker's per-registration secret (RegisterWorker's worker_secret).
WORKER_SECRET_HEADER = "jq-worker-secret"


def call_metadata(api_key: Optional[str]) -> Metadata:
    """``authorization: Bearer <key>`` on every call, as the API expects (SPEC §4)."""
    return (("authorization", f"Bearer {api_key}"),) if api_key else ()


def channel_options(initial_reconnect: float = 0.1, max_reconnect: float = 5.0) -> list[tuple[str, int]]:
    # The channel's own reconnect backoff follows the worker's bounds; gRPC's default ceiling is
    # 120 s, far too long after an API replica restarts. Not grpc.min_reconnect_backoff_ms: gRPC
    # core takes it as the least time one connection attempt may take (its default is 20 s), and
    # at 100 ms a loaded server's SETTINGS came too late ("connection attempt timed out before
    # receiving SETTINGS frame"), failing the first call UNAVAILABLE.
    return [
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.initial_reconnect_backoff_ms", int(initial_reconnect * 1000)),
        ("grpc.max_reconnect_backoff_ms", int(max_reconnect * 1000)),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ]


def aio_channel(address: str, tls: TlsOption, options: Sequence[tuple[str, int]]) -> grpc.aio.Channel:
    creds = credentials(tls)
    if creds is None:
        return grpc.aio.insecure_channel(address, options=list(options))
    return grpc.aio.secure_channel(address, creds, options=list(options))


def sync_channel(address: str, tls: TlsOption, options: Sequence[tuple[str, int]]) -> grpc.Channel:
    creds = credentials(tls)
    if creds is None:
        return grpc.insecure_channel(address, options=list(options))
    return grpc.secure_channel(address, creds, options=list(options))
