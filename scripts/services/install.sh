#!/usr/bin/env bash
# Makes the local test bed's servers available on this machine (CI calls it on a fresh one):
# Postgres and redis-server from the distribution's packages when they are missing, then the
# Kafka broker's jars through scripts/kafka/fetch-jars.sh and grpcurl through grpcurl.sh. Safe to
# run again: it installs only what is missing. Installing needs root (apt-get); Kafka needs a Java 17+ runtime on PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; }
have_redis() { command -v redis-server >/dev/null 2>&1; }
have_promtool() { command -v promtool >/dev/null 2>&1; }
have_chromium() { [ -x /usr/bin/chromium ]; }

missing=()
have_postgres || missing+=(postgresql)
have_redis || missing+=(redis-server)
# promtool (from Debian's prometheus package) lints every process's /metrics in the tests.
have_promtool || missing+=(prometheus)
# Debian's Chromium runs the dashboard's browser test (driven by playwright-core).
have_chromium || missing+=(chromium)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "services: missing ${missing[*]}; run this script as root or install them yourself" \
      "(Debian/Ubuntu: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "services: missing ${missing[*]} and no apt-get here; install them with the system's package manager" >&2
    exit 1
  fi
  echo "services: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # The packages' own services are not wanted: the test bed starts private servers on free ports.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  have_postgres || { echo "services: postgresql installed but no initdb found under /usr/lib/postgresql/*/bin" >&2; exit 1; }
fi

java_missing=0
if ! command -v java >/dev/null 2>&1; then
  echo "services: no java on PATH; the local Kafka broker needs a Java 17+ runtime" \
    "(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)" >&2
  java_missing=1
fi

# Still worth fetching (or finding in the cache) without java; fetching needs Maven.
libs="$("$here/../kafka/fetch-jars.sh")"
# The real grpcurl, for the reflection tests (built once with Go, cached like the jars).
grpcurl="$("$here/grpcurl.sh")"
if [ "$java_missing" -eq 1 ]; then
  echo "services: Kafka jars are in $libs, but java is missing (see above)" >&2
  exit 1
fi
echo "services: postgres, redis-server, java, the Kafka jars ($libs) and grpcurl ($grpcurl) are ready" >&2
