#!/usr/bin/env bash
# A flood of widget event batches against a release `laris serve`, loopback only: C
# clients (default 300), each from its own address 127.0.X.Y, each POSTing batches of 50
# events to /v1/shops/lengkuas/events for S seconds (default 20, at most 60). Reports the
# answers by status, the events the shop stored, and the service's peak RSS (VmHWM) before
# and after. SHOP_RATE=N sets server.shop_events_per_second (default: the service's 500)
# — set it high to see memory when everything is stored.
#
#   cargo build --release --bin laris
#   bash benches/ops/event_flood.sh [LARIS_BINARY] [C] [S]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-${CARGO_TARGET_DIR:-target}/release/laris}
clients=${2:-300}
seconds=${3:-20}
if [[ ! -x $bin ]]; then
    echo "no laris binary at $bin: run cargo build --release --bin laris, or pass its path" >&2
    exit 2
fi
if ((clients < 1 || clients > 1000 || seconds < 1 || seconds > 60)); then
    echo "C = $clients, S = $seconds: use 1 to 1000 clients for 1 to 60 seconds" >&2
    exit 2
fi
tmp=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
token=event-flood-admin-token-$RANDOM$RANDOM
if [[ -n ${SHOP_RATE:-} ]]; then export LARIS_SERVER_SHOP_EVENTS_PER_SECOND=$SHOP_RATE; fi
LARIS_ADMIN_TOKEN=$token "$bin" --data-dir "$tmp/data" serve --addr "127.0.0.1:$port" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }; curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
stored() {
    curl -fs -H "authorization: Bearer $token" "http://127.0.0.1:$port/admin/api/status" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["shops"][0]["events"])'
}
echo "peak RSS after start: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
before=$(stored)
python3 - "$port" "$clients" "$seconds" <<'PY'
import collections, http.client, json, sys, threading, time
port, clients, seconds = map(int, sys.argv[1:])
batch = json.dumps({"events": [{"type": "impression", "slot": "similar", "product": "SRD-100"}] * 50})
counts = collections.Counter()
lock = threading.Lock()
end = time.monotonic() + seconds
def client(i):
    src = f"127.0.{1 + i // 250}.{1 + i % 250}"
    local = collections.Counter()
    conn = None
    while time.monotonic() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
            conn.request("POST", "/v1/shops/lengkuas/events", batch, {"content-type": "application/json"})
            r = conn.getresponse()
            r.read()
            local[r.status] += 1
            if r.status == 429:
                time.sleep(float(r.getheader("retry-after", "1")))
        except OSError as e:
            local[type(e).__name__] += 1
            conn = None
            time.sleep(0.1)
    with lock:
        counts.update(local)
threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
print("answers:", dict(sorted(counts.items(), key=lambda kv: str(kv[0]))))
PY
echo "events stored during the flood: $(($(stored) - before))"
echo "peak RSS after the flood: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "RSS now: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
