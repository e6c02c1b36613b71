"""jq worker SDK: run handlers for jq jobs (Worker) and submit or follow jobs (Client)."""

__version__ = "0.1.0"

from .client import Client, job_request  # noqa: E402
from .connection import Tls  # noqa: E402
from .errors import CancelReason, JobCancelledError, NonRetryableError  # noqa: E402
from .job import Cancellation, Job  # noqa: E402
from .worker import Worker  # noqa: E402

__all__ = ["Cancellation", "CancelReason", "Client", "Job", "JobCancelledError", "NonRetryableError", "Tls", "Worker", "job_request", "__version__"]
