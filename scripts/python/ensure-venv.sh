#!/usr/bin/env bash
# Prints the path of a Python virtualenv (under this checkout's .tools/) holding the jq-worker SDK
# from sdk/python and pytest, creating or refreshing it when missing or stale. Everything comes
# from PyPI through pip. Safe to run again: a stamp (hash of the SDK's sources, the .proto files
# and this script) skips the install when nothing changed. Needs python3 >= 3.10 on PATH; as root
# on Debian/Ubuntu it installs python3 and python3-venv when they are missing.
#
# The venv is this checkout's, not JQ_TOOLS_DIR's: it holds a build of this checkout's SDK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/python-venv"

python_ok() { "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 10) else 1)' >/dev/null 2>&1; }

find_python() {
  for candidate in "${JQ_PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate" && { command -v "$candidate"; return 0; }
  done
  return 1
}

if ! python="$(find_python)"; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "python: installing python3 and python3-venv" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends python3 python3-venv >&2
  fi
  python="$(find_python)" || { echo "python: need python3 >= 3.10 with venv and ensurepip (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
fi

stamp_of_sources() {
  (cd "$root" && find sdk/python -path sdk/python/src/jq_worker/_gen -prune -o -type f \
    \( -name '*.py' -o -name '*.toml' -o -name '*.typed' \) -print | grep -v __pycache__ | LC_ALL=C sort \
    | xargs sha256sum; sha256sum proto/jq/v1/*.proto scripts/python/ensure-venv.sh) | sha256sum | cut -d' ' -f1
}
want="$(stamp_of_sources)"
stamp="$venv/.jq-sdk-stamp"

if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
  echo "python: creating $venv with $python" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "python: installing the jq-worker SDK and pytest into $venv" >&2
  pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
  # Build the wheel once (the build generates the gRPC stubs), then install it with its
  # dependencies and pytest; --force-reinstall because a rebuild keeps the same version number.
  wheels="$(mktemp -d)"
  trap 'rm -rf "$wheels"' EXIT
  "${pip[@]}" wheel --no-deps --wheel-dir "$wheels" "$root/sdk/python" >&2
  wheel="$(ls "$wheels"/jq_worker-*.whl)"
  "${pip[@]}" install "${wheel}[test]" >&2
  "${pip[@]}" install --force-reinstall --no-deps "$wheel" >&2
  echo "$want" > "$stamp"
fi
echo "$venv"
