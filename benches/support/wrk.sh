# Pieces the wrk benchmarks share (benches/serving, benches/backends); source it. The
# caller sets `tmp` (a scratch directory) and an array `pids` (processes to stop on exit).

# Installs wrk with apt-get when it is missing; checks for curl and awk.
wrk_need() {
    if ! command -v wrk >/dev/null; then
        echo "installing wrk (apt-get)" >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
    fi
    local tool
    for tool in curl awk; do
        command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
    done
}

# start_laris VAR DATA_DIR LARIS [ENV=VALUE...]: starts `LARIS --data-dir DATA_DIR serve` on
# a free port of 127.0.0.1 with the given environment (logs in DATA_DIR.log), waits until
# /healthz answers (at most 120 s) and sets VAR to its base URL. The demo shop is seeded on
# this first start.
start_laris() {
    local var=$1 data=$2 bin=$3
    shift 3
    env "$@" "$bin" --data-dir "$data" serve --addr 127.0.0.1:0 >/dev/null 2>"$data.log" &
    local pid=$!
    pids+=("$pid")
    local i
    for i in $(seq 1 1200); do
        [ -s "$data/laris.serve.json" ] && break
        kill -0 "$pid" 2>/dev/null || { echo "laris did not start:" >&2; tail -20 "$data.log" >&2; exit 1; }
        sleep 0.1
    done
    local addr
    addr=$(grep -o '"addr":"[^"]*"' "$data/laris.serve.json" | cut -d'"' -f4)
    [ -n "$addr" ] || { echo "laris wrote no address in 120 s:" >&2; tail -20 "$data.log" >&2; exit 1; }
    for i in $(seq 1 300); do
        curl -sf "http://$addr/healthz" >/dev/null && break
        sleep 0.1
    done
    printf -v "$var" 'http://%s' "$addr"
}

# random_product_lua FILE SHOP SLOTS IDS...: a wrk script asking the batched fragments of a
# random one of IDS per request; a global `suffix` (set before it) is appended to the query.
random_product_lua() {
    local file=$1 shop=$2 slots=$3
    shift 3
    {
        echo "local ids = {"
        local id
        for id in "$@"; do echo "  \"$id\","; done
        echo "}"
        echo "math.randomseed(os.time())"
        echo "request = function()"
        echo "  local path = \"/v1/shops/$shop/fragments?slots=$slots&product=\" .. ids[math.random(#ids)] .. (suffix or \"\")"
        echo "  return wrk.format(\"GET\", path, wrk.headers)"
        echo "end"
    } >"$file"
}

# wrk_run URL THREADS CONNS SECONDS SCRIPT [HEADER]: prints wrk's requests a second, errors
# (socket errors and non-2xx/3xx answers) and p99 in ms. wrk itself is bounded by `timeout`.
wrk_run() {
    local out
    if [ -n "${6:-}" ]; then
        out=$(timeout $(($4 + 30)) wrk -t"$2" -c"$3" -d"$4s" --latency -s "$5" -H "$6" "$1")
    else
        out=$(timeout $(($4 + 30)) wrk -t"$2" -c"$3" -d"$4s" --latency -s "$5" "$1")
    fi
    echo "$out" | awk '
    /Requests\/sec/ { rps = $2 }
    /Socket errors/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx/ { errs += $NF }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                  p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : v }
    END { printf "%s %d %s\n", rps, errs, p99 }'
}

# The median of the numbers on stdin, one a line (the lower one of an even count's middle
# two).
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ratio A B: A / B as "0.00x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'; }
