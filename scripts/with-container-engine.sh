#!/usr/bin/env bash
# Runs a command with a Docker-compatible container engine in DOCKER_HOST (container-engine.sh starts
# Podman's API service and builds the base images). Without one the command still runs, with
# DOCKYARD_NO_ENGINE_REASON exported, and the container tests skip with that reason.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp /tmp/dockyard-engine.XXXXXX)
bash "$here/container-engine.sh" | tee "$out"
status=$(tail -n1 "$out")
rm -f "$out"
case $status in
  "container-engine: ready at "*)
    exec env DOCKER_HOST="${status#container-engine: ready at }" "$@" ;;
  "container-engine: unavailable: "*)
    reason=${status#container-engine: unavailable: } ;;
  *)
    reason="scripts/container-engine.sh ended without an engine (last line: ${status:-none})" ;;
esac
export DOCKYARD_NO_ENGINE_REASON=$reason
exec "$@"
