#!/usr/bin/env bash
# 1,100 idle connections against a release `laris serve` limited to 1,024 open files, then
# /healthz; then SIGTERM while a slow client holds a request open, timing the stop.
# Loopback only, bounded (about 30 s). Usage: bash benches/ops/idle_flood.sh [laris binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/laris}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
(ulimit -n 1024; exec "$bin" --data-dir "$tmp/data" serve --addr "127.0.0.1:$port" >"$tmp/log" 2>&1) &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
python3 - "$port" <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
idle = []
for _ in range(1100):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        idle.append(s)
    except OSError as e:
        print("connect failed:", e)
        break
print(f"idle connections opened: {len(idle)}")
ok, times = 0, []
for _ in range(20):
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            ok += r.status == 200
    except Exception as e:
        print("healthz:", e)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"/healthz answered 200: {ok}/20, median {times[10]:.2f} ms, max {times[-1]:.2f} ms")
closed = 0
for s in idle:
    s.settimeout(0.01)
    try:
        if s.recv(1) == b"":
            closed += 1
    except OSError:
        pass
print(f"idle connections closed by the server to make room: {closed}")
PY
grep -c "Too many open files" "$tmp/log" | sed 's/^/accept errors "Too many open files": /' || true
# A slow client: headers of a POST, one byte of its body, then nothing.
python3 - "$port" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/shops/lengkuas/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n[")
time.sleep(60)
PY
sleep 0.5
start=$(date +%s.%N)
kill -TERM $pid
wait $pid || true
echo "stopped $(echo "$(date +%s.%N) - $start" | bc) s after SIGTERM with a slow client connected"
