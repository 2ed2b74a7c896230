#!/usr/bin/env bash
# with-redis.sh CMD [ARGS...]
#
# Starts a throwaway single Redis and a 3-node Redis Cluster on loopback, runs
# CMD with TEST_REDIS_URL and TEST_REDIS_CLUSTER_URL pointing at them, stops
# them again (also when CMD fails or the script is interrupted) and exits
# with CMD's status. Installs redis-server with apt-get when it is missing.
# Data lives under .redis-test/ (git-ignored) and is never saved to disk.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "with-redis: redis-server not found; installing it with apt-get" >&2
	if [[ $(id -u) -ne 0 ]]; then
		echo "with-redis: need root to install redis-server (or install it yourself)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y redis-server
fi

dir="$root/.redis-test/run-$$"
mkdir -p "$dir"
ports=()
pids=()

stop() {
	local p
	for p in "${ports[@]}"; do
		redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
	done
	# A server that did not answer SHUTDOWN is stopped by its pid; waiting
	# reaps them all, so no zombie is left behind.
	for p in "${pids[@]}"; do
		kill "$p" >/dev/null 2>&1 || true
	done
	for p in "${pids[@]}"; do
		wait "$p" >/dev/null 2>&1 || true
	done
	rm -rf "$dir"
	rmdir "$root/.redis-test" >/dev/null 2>&1 || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

# start_server ARGS... starts one redis-server on a free port (the cluster bus
# port, +10000, must be free too) and sets $port to it.
start_server() {
	local p pid try i
	for try in $(seq 1 20); do
		p=$((20000 + RANDOM % 10000))
		port_free "$p" && port_free $((p + 10000)) || continue
		redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$dir" --logfile "$dir/$p.log" "$@" >/dev/null 2>&1 &
		pid=$!
		for i in $(seq 1 100); do
			if redis-cli -p "$p" ping 2>/dev/null | grep -q PONG; then
				ports+=("$p")
				pids+=("$pid")
				port=$p
				return 0
			fi
			# Exited: most likely someone took the port first; try another.
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" >/dev/null 2>&1 || true
		wait "$pid" >/dev/null 2>&1 || true
		echo "with-redis: redis on port $p did not come up:" >&2
		cat "$dir/$p.log" >&2 || true
	done
	echo "with-redis: could not start redis-server" >&2
	return 1
}

port=""
start_server
single=$port
cluster_args=(--cluster-enabled yes --cluster-node-timeout 5000)
start_server "${cluster_args[@]}" --cluster-config-file nodes-1.conf
c1=$port
start_server "${cluster_args[@]}" --cluster-config-file nodes-2.conf
c2=$port
start_server "${cluster_args[@]}" --cluster-config-file nodes-3.conf
c3=$port

redis-cli --cluster create "127.0.0.1:$c1" "127.0.0.1:$c2" "127.0.0.1:$c3" \
	--cluster-replicas 0 --cluster-yes >"$dir/cluster-create.log" 2>&1 || {
	cat "$dir/cluster-create.log" >&2
	exit 1
}
ok=""
for i in $(seq 1 200); do
	ok=yes
	for p in "$c1" "$c2" "$c3"; do
		redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || ok=""
	done
	[[ -n $ok ]] && break
	sleep 0.05
done
if [[ -z $ok ]]; then
	echo "with-redis: cluster did not reach cluster_state:ok" >&2
	redis-cli -p "$c1" cluster info >&2 || true
	exit 1
fi

export TEST_REDIS_URL="redis://127.0.0.1:$single/0"
export TEST_REDIS_CLUSTER_URL="redis://127.0.0.1:$c1?addr=127.0.0.1:$c2&addr=127.0.0.1:$c3"
echo "with-redis: TEST_REDIS_URL=$TEST_REDIS_URL TEST_REDIS_CLUSTER_URL=$TEST_REDIS_CLUSTER_URL" >&2

status=0
"$@" || status=$?
exit "$status"
