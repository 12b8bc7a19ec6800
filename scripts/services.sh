#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: PostgreSQL (127.0.0.1:5432) and Redis
# (127.0.0.1:6379). This machine kind starts both before a session and before CI; this
# starts whichever is down (as root, with the commands the machine's documentation gives).
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for port in 5432 6379; do
  for _ in $(seq 20); do up "$port" && break; sleep 0.5; done
  up "$port" || echo "warning: nothing answers on 127.0.0.1:$port; the tests that need it will skip" >&2
done
exit 0
