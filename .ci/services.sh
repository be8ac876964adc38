#!/usr/bin/env bash
# Installs (from Debian's packages) and starts the real services the tests use: Chromium,
# PostgreSQL and Redis; installs Dovecot, which the mail tests start themselves. Prints the
# variables to export. Idempotent; needs root.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# Dovecot: the mail tests start their own unprivileged instance (tests/integration/dovecot.py).
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# PostgreSQL: the packaged cluster, a role that may create the per-test databases.
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h | grep -q online; then
  pg_lsclusters -h | grep -q . || pg_createcluster "$version" main >&2
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 && break; sleep 0.2; done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='relais'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE relais LOGIN CREATEDB PASSWORD 'relais'\"" >&2
# The tests drop their databases WITH (FORCE), which must be allowed to stop any session in them.
su postgres -c "psql -qc 'GRANT pg_signal_backend TO relais'" >&2

# Redis: a private instance on its own port.
redis_port=6390
if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  redis-server --port "$redis_port" --save '' --appendonly no --daemonize yes >&2
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "export RELAIS_TEST_DATABASE_URL=postgresql+asyncpg://relais:relais@127.0.0.1:5432/postgres"
echo "export RELAIS_TEST_REDIS_URL=redis://127.0.0.1:${redis_port}/0"
echo "export RELAIS_TEST_CHROMIUM=$(command -v chromium)"
