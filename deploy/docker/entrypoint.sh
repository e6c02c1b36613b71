#!/bin/sh
# Container entry point (see Dockerfile): runs one jq app.
#
#   jq-entrypoint [api|scheduler|health] [--dry-run | --help]
#
# Without an app argument, APP from the environment (default api) picks it. The app's own
# options follow. `exec` makes node PID 1, so SIGTERM reaches it and its graceful shutdown runs.
set -eu
app="${APP:-api}"
case "${1:-}" in
  api | scheduler | health)
    app="$1"
    shift
    ;;
  -* | "") ;;
  *)
    echo "jq-entrypoint: unknown app '$1' (expected api, scheduler or health)" >&2
    exit 64
    ;;
esac
case "$app" in
  api | scheduler | health) ;;
  *)
    echo "jq-entrypoint: unknown app '$app' (expected api, scheduler or health)" >&2
    exit 64
    ;;
esac
exec node "${APP_HOME:-/app}/dist/apps/$app/main.js" "$@"
