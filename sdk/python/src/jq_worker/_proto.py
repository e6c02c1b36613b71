"""The generated protobuf and gRPC modules (built from proto/jq/v1 by hatch_build.py)."""

from jq_worker._gen.jq.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    job_pb2,
    job_service_pb2,
    job_service_pb2_grpc,
    worker_service_pb2,
    worker_service_pb2_grpc,
)

__all__ = [
    "admin_service_pb2", "admin_service_pb2_grpc", "job_pb2", "job_service_pb2", "job_service_pb2_grpc",
    "worker_service_pb2", "worker_service_pb2_grpc",
]
