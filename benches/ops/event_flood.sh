#!/usr/bin/env bash
# A flood of widget event batches against a release `laris serve`, loopback only: C
# clients (default 300), each from its own address 127.0.X.Y, each POSTing batches of 50
# events to /v1/shops/lengkuas/events for S seconds (default 20, at most 60). Reports the
# answers by status, the events the shop stored, and the service's peak RSS (VmHWM) before
# and after. SHOP_RATE=N sets server.shop_events_per_second (default: the service's 500)
# — set it high to see memory when everything is stored.
#
# ADDRESSES=N (more than C, at most 60000) spreads the batches over N addresses instead:
# each client sends each batch from the next of its addresses on a new connection, as many
# visitors each sending a beacon would, so that the per-address limit (60 events at once, 5
# a second) does not bound the total and the flood measures ingestion itself.
# STORE_URL=postgres://USER@HOST:PORT/DATABASE runs the service on that (empty) PostgreSQL
# database instead of a sled store in a temporary directory. The last line,
# `result: backend=… seconds=… accepted=… per_second=… stored=…`, is for scripts
# (`benches/backends events`): events answered `202 {"accepted": n}` (each acknowledged only
# once durable) and their rate, and the rows counted in the store after the service stopped
# (PostgreSQL: `count(*)` of the shop's `events` rows; sled: `laris status`).
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
addresses=${ADDRESSES:-$clients}
if ((clients < 1 || clients > 1000 || seconds < 1 || seconds > 60)); then
    echo "C = $clients, S = $seconds: use 1 to 1000 clients for 1 to 60 seconds" >&2
    exit 2
fi
if ! [[ $addresses =~ ^[0-9]+$ ]] || ((addresses < clients || addresses > 60000)); then
    echo "ADDRESSES=$addresses: use a number from C ($clients) to 60000" >&2
    exit 2
fi
backend=sled
if [[ -n ${STORE_URL:-} ]]; then
    case $STORE_URL in
        postgres://* | postgresql://*) backend=postgres ;;
        *) echo "STORE_URL=$STORE_URL: give postgres://USER@HOST:PORT/DATABASE, or leave it unset for sled" >&2; exit 2 ;;
    esac
    export LARIS_STORE_BACKEND=postgres LARIS_STORE_URL=$STORE_URL
fi
tmp=$(mktemp -d)
pid=
stop_service() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    pid=
}
cleanup() {
    stop_service
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
python3 - "$port" "$clients" "$seconds" "$addresses" >"$tmp/flood" <<'PY'
import collections, http.client, json, sys, threading, time
port, clients, seconds, addresses = map(int, sys.argv[1:])
batch = json.dumps({"events": [{"type": "impression", "slot": "similar", "product": "SRD-100"}] * 50})
counts = collections.Counter()
lock = threading.Lock()
accepted = 0
buffered = 0
start = time.monotonic()
end = start + seconds
def source(a):
    return f"127.0.{1 + a // 250}.{1 + a % 250}"
def client(i):
    global accepted, buffered
    mine = list(range(i, addresses, clients))
    rotate = len(mine) > 1
    local = collections.Counter()
    took = kept = 0
    conn = None
    n = 0
    while time.monotonic() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source(mine[n % len(mine)]), 0))
                n += 1
            conn.request("POST", "/v1/shops/lengkuas/events", batch, {"content-type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            local[r.status] += 1
            if r.status == 202:
                answer = json.loads(body)
                if answer.get("buffered"):
                    kept += answer["accepted"]
                else:
                    took += answer["accepted"]
            if rotate:
                conn.close()
                conn = None
            elif r.status == 429:
                time.sleep(float(r.getheader("retry-after", "1")))
        except OSError as e:
            local[type(e).__name__] += 1
            conn = None
            time.sleep(0.1)
    with lock:
        counts.update(local)
        accepted += took
        buffered += kept
threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - start
print("answers:", dict(sorted(counts.items(), key=lambda kv: str(kv[0]))))
print(f"accepted (202, durable): {accepted} events in {elapsed:.1f} s = {accepted / elapsed:.0f} events/s; buffered (database away): {buffered}")
print(f"flood: seconds={elapsed:.2f} accepted={accepted}")
PY
grep -v '^flood: ' "$tmp/flood"
after=$(stored)
echo "events stored during the flood: $((after - before))"
echo "peak RSS after the flood: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "RSS now: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
stop_service
# The rows themselves, counted with the service stopped.
if [[ $backend == postgres ]]; then
    rows=$("${PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -qAtX "$STORE_URL" -c "SELECT count(*) FROM events WHERE shop = 'lengkuas'")
else
    rows=$("$bin" --data-dir "$tmp/data" status --shop lengkuas --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["shops"][0]["events"])')
fi
echo "events in the store after the service stopped: $rows ($before before the flood)"
read -r flood_seconds flood_accepted < <(sed -n 's/^flood: seconds=\([0-9.]*\) accepted=\([0-9]*\)/\1 \2/p' "$tmp/flood")
echo "result: backend=$backend seconds=$flood_seconds accepted=$flood_accepted per_second=$(awk -v a="$flood_accepted" -v s="$flood_seconds" 'BEGIN { printf "%.0f", a / s }') stored=$((rows - before))"
