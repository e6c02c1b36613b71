"""README.md's complete example, run exactly as written: worker.py until SIGTERM, submit.py to the end."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from support.processes import JsonLinesProcess, wait_for

README = Path(__file__).resolve().parent.parent / "README.md"


def example(name: str) -> str:
    """The ```python block after the sentence that says to save it as `name`."""
    text = README.read_text()
    start = text.index(f"save this as `{name}`")
    return re.search(r"```python\n(.*?)```", text[start:], re.DOTALL).group(1)


def test_readme_example_runs_as_written(cluster, tmp_path):
    env = {**os.environ, "JQ_ADDRESS": cluster.a.address, "PYTHONUNBUFFERED": "1"}
    (tmp_path / "worker.py").write_text(example("worker.py"))
    (tmp_path / "submit.py").write_text(example("submit.py"))
    worker = JsonLinesProcess([sys.executable, str(tmp_path / "worker.py")], env)
    try:
        submit = subprocess.run([sys.executable, str(tmp_path / "submit.py")], env=env, capture_output=True, text=True, timeout=60)
        assert submit.returncode == 0, submit.stderr
        lines = submit.stdout.splitlines()
        assert lines[:4] == [
            "TRANSITION_REASON_SUBMITTED JOB_STATUS_PENDING",
            "TRANSITION_REASON_CLAIMED JOB_STATUS_ASSIGNED",
            "TRANSITION_REASON_DELIVERED JOB_STATUS_RUNNING",
            "TRANSITION_REASON_SUCCEEDED JOB_STATUS_DONE",
        ], submit.stdout
        assert lines[4] == 'result: {"sent_to": "ada@example.com", "attempt": 1}'
        assert lines[5] == "{'JOB_STATUS_DONE'} JOB_STATUS_DEAD_LETTERED"
    finally:
        worker.signal(signal.SIGTERM)
        code = worker.wait_exit(30)
    assert code == 0, "".join(worker.stderr)
