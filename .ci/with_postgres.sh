#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL on 127.0.0.1 (stopped and removed afterwards).
# Exports SCOMM_TEST_POSTGRES_URL for the tests that exercise the PostgreSQL path.
# Usage: .ci/with_postgres.sh make test
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -q && apt-get install -y -q postgresql
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=${SCOMM_TEST_PG_PORT:-55433}
data=$(mktemp -d "${TMPDIR:-/tmp}/scomm-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$data"; as=(runuser -u postgres --); fi  # initdb refuses root
"${as[@]}" "$pgbin/initdb" -D "$data" -U scomm -A trust -E UTF8 --no-sync >/dev/null
"${as[@]}" "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 start \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
trap '"${as[@]}" "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; rm -rf "$data"' EXIT
"$pgbin/createdb" -h 127.0.0.1 -p "$port" -U scomm scomm_test
export SCOMM_TEST_POSTGRES_URL="postgresql://scomm@127.0.0.1:$port/scomm_test"
"$@"
