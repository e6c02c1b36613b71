#!/usr/bin/env bash
# Prints the path of a grpcurl binary (fullstorydev/grpcurl, pinned below), built once with
# `go install` from the Go module proxy and cached under ~/.cache/jq (or $JQ_CACHE_DIR), like the
# Kafka jars. The reflection tests drive the real grpcurl against apps/api; it needs Go on PATH
# (or in /usr/local/go/bin) the first time only.
set -euo pipefail
version="v1.9.4"
dest="${JQ_CACHE_DIR:-$HOME/.cache/jq}/grpcurl-$version/bin"
if [ ! -x "$dest/grpcurl" ]; then
  go_bin="$(command -v go || true)"
  [ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
  if [ -z "$go_bin" ]; then
    echo "grpcurl: no Go toolchain on PATH; install Go 1.22+ to build grpcurl $version" >&2
    exit 1
  fi
  echo "grpcurl: building github.com/fullstorydev/grpcurl/cmd/grpcurl@$version into $dest" >&2
  mkdir -p "$dest"
  # A private build into a temporary folder, moved in place at the end, so an interrupted build
  # never leaves a half-written binary in the cache.
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" "$go_bin" install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$version" >&2
  mv "$tmp/grpcurl" "$dest/grpcurl"
fi
echo "$dest/grpcurl"
