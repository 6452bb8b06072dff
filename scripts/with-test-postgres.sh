#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster, exported as DOCKYARD_TEST_POSTGRES_URL.
# Without the server packages the command runs alone and the PostgreSQL tests skip with a reason.
set -euo pipefail
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  exec "$@"
fi
root=$(mktemp -d /tmp/dockyard-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$root"
  run=(runuser -u postgres --)
fi
cleanup() { "${run[@]}" "$pg_bin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$root"; }
trap cleanup EXIT
"${run[@]}" "$pg_bin/initdb" -D "$root/data" -U dockyard --auth=trust -E UTF8 >/dev/null
"${run[@]}" "$pg_bin/pg_ctl" -D "$root/data" -l "$root/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c full_page_writes=off" start >/dev/null
export DOCKYARD_TEST_POSTGRES_URL="postgresql+psycopg://dockyard@127.0.0.1:$port/postgres"
echo "test PostgreSQL on 127.0.0.1:$port"
"$@"
