#!/bin/sh
# with_redis.sh CMD [ARGS...] - run CMD with a redis-server of its own.
#
# Starts redis-server on 127.0.0.1 on a free port (a random one it could
# bind: its PID is checked in INFO), without persistence, runs CMD with
# CACHIER_REDIS_PORT set to that port, and stops the server by its PID
# however CMD ends. Exits with CMD's status. With REDIS_CPU set, the
# server is pinned to that vCPU (taskset). Used by make fuzz and bench.
pid=; port=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi; }
trap stop EXIT
trap 'exit 130' INT TERM HUP
ours() { redis-cli -p "$port" INFO server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"; }
alive() { st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }
for try in 1 2 3 4 5 6 7 8 9 10; do
  port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
  ${REDIS_CPU:+taskset -c "$REDIS_CPU"} redis-server --port "$port" \
    --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --logfile /dev/null </dev/null >/dev/null 2>&1 & pid=$!
  for i in $(seq 200); do ours && break; alive "$pid" || break; sleep 0.05; done
  ours && break
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
if [ -z "$pid" ]; then echo "with_redis.sh: redis-server did not start" >&2; exit 1; fi
# Seals of settings (docs/security.md) use a key of the run's own, never
# the user's ~/.config/cachier/key.
keydir=$(mktemp -d)
CACHIER_KEY_FILE=${CACHIER_KEY_FILE:-$keydir/key} CACHIER_REDIS_PORT=$port "$@"
rc=$?
rm -rf "$keydir"
exit $rc
