"""Build hook: generates the protobuf and gRPC stubs from proto/jq/v1 (never committed).

The .proto files live at the repository root (`../../proto`), or wherever JQ_PROTO_DIR points.
protoc writes `from jq.v1 import job_pb2`; the imports are rewritten to the package's own
`jq_worker._gen.jq.v1` so the stubs do not claim a top-level `jq` package.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def generate(root: Path) -> None:
    from grpc_tools import protoc  # the build requirement grpcio-tools

    proto_root = Path(os.environ.get("JQ_PROTO_DIR", root / ".." / ".." / "proto")).resolve()
    sources = sorted(proto_root.glob("jq/v1/*.proto"))
    if not sources:
        raise RuntimeError(f"no .proto files under {proto_root}/jq/v1 (set JQ_PROTO_DIR)")
    out = root / "src" / "jq_worker" / "_gen"
    out.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto
    args = ["protoc", f"-I{proto_root}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + [str(s) for s in sources]) != 0:
        raise RuntimeError("protoc failed")
    for package_dir in (out, out / "jq", out / "jq" / "v1"):
        (package_dir / "__init__.py").touch()
    for generated in (out / "jq" / "v1").glob("*.py*"):
        text = generated.read_text()
        fixed = re.sub(r"^from jq\.v1 import", "from jq_worker._gen.jq.v1 import", text, flags=re.MULTILINE)
        fixed = re.sub(r"^import jq\.v1\.", "import jq_worker._gen.jq.v1.", fixed, flags=re.MULTILINE)
        if fixed != text:
            generated.write_text(fixed)


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        generate(Path(self.root))
