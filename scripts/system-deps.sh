#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when run as root and they are missing.
set -euo pipefail
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: PostgreSQL server not installed and not root; PostgreSQL store tests will be skipped." >&2
  exit 0
fi
echo "system-deps: installing postgresql (store tests run on SQLite and PostgreSQL)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
