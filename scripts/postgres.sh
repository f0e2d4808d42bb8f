#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages (when absent), starts the cluster, and creates the
# `ridgeline` superuser (password `ridgeline`) that the test suite uses to create a database per test.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^${version} main"; then
  pg_createcluster "${version}" main >/dev/null
fi
pg_ctlcluster "${version}" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ridgeline') THEN
    CREATE ROLE ridgeline LOGIN SUPERUSER PASSWORD 'ridgeline';
  END IF;
END $$;
SQL
echo "PostgreSQL ${version} ready on 127.0.0.1:5432 (role ridgeline)" >&2
