#!/usr/bin/env bash
# Prints a folder holding the jars of an Apache Kafka 4.1 broker, fetched once from Maven Central
# with maven-dependency-plugin and cached under ~/.cache/jq (or $JQ_CACHE_DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
# The cache is keyed by the pom's content, so a changed dependency list fetches afresh.
pom_sum="$(sha256sum "$here/pom.xml" | cut -c1-12)"
dest="${JQ_CACHE_DIR:-$HOME/.cache/jq}/kafka-$version-$pom_sum/libs"
if [ ! -f "$dest/.complete" ]; then
  echo "fetch-jars: copying Kafka $version jars into $dest" >&2
  rm -rf "$dest" && mkdir -p "$dest"
  mvn -q -B -f "$here/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$dest" -DincludeScope=runtime >&2
  touch "$dest/.complete"
fi
echo "$dest"
