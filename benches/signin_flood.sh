#!/usr/bin/env bash
# A flood of failed admin sign-ins against a release `laris serve`, on loopback only:
# N concurrent sign-ins with wrong passwords, each from its own address 127.0.X.Y (Linux
# routes all of 127.0.0.0/8 to loopback), for made-up user names (each checked against a
# decoy hash, as an unknown user costs what a wrong password does) or with USER_NAME=admin for
# the owner's name. argon2id runs with its default parameters (19 MiB, 2 passes: the
# password is set with `laris admin set-password`). Reports the service's peak RSS (VmHWM),
# its RSS after the flood, how many answers were 401 / 429 / other, and how long it took.
#
#   cargo build --release --bin laris
#   benches/signin_flood.sh [LARIS_BINARY] [N]        # defaults: target/release/laris, 300
#
# Environment: USER_NAME=admin signs in as the owner instead of with made-up names;
# FAILED_PER_MINUTE=K writes admin.failed_signins_per_minute = K (set it high to see the
# password-check pool alone); PASSWORD_CHECKS / PASSWORD_QUEUE write admin.password_checks /
# admin.password_queue. Every request has a 120 s timeout; the service is stopped at the end
# (or on Ctrl-C) and its temporary data directory removed.
set -euo pipefail

BIN=${1:-${CARGO_TARGET_DIR:-target}/release/laris}
N=${2:-300}
if [[ ! -x "$BIN" ]]; then
    echo "no laris binary at $BIN: run cargo build --release --bin laris, or pass its path" >&2
    exit 2
fi
if (( N < 1 || N > 2000 )); then
    echo "N = $N: use 1 to 2000 concurrent sign-ins" >&2
    exit 2
fi

WORK=$(mktemp -d)
PID=""
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

{
    echo '[server]'
    echo 'addr = "127.0.0.1:0"'
    echo '[log]'
    echo 'level = "error"'
    echo '[admin]'
    echo 'token = "signin-flood-bench-token-0123456789"'
    [[ -n "${FAILED_PER_MINUTE:-}" ]] && echo "failed_signins_per_minute = $FAILED_PER_MINUTE"
    [[ -n "${PASSWORD_CHECKS:-}" ]] && echo "password_checks = $PASSWORD_CHECKS"
    [[ -n "${PASSWORD_QUEUE:-}" ]] && echo "password_queue = $PASSWORD_QUEUE"
} > "$WORK/laris.toml"

printf 'the-right-password-123\n' |
    "$BIN" --config "$WORK/laris.toml" --data-dir "$WORK/data" admin set-password > /dev/null

"$BIN" --config "$WORK/laris.toml" --data-dir "$WORK/data" serve --addr 127.0.0.1:0 \
    > "$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 600); do
    [[ -f "$WORK/data/laris.serve.json" ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.1
done
ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["addr"])' "$WORK/data/laris.serve.json")
case "$ADDR" in
    127.*) ;;
    *) echo "the service listens on $ADDR, not loopback: refusing to send traffic" >&2; exit 1 ;;
esac

rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$PID/status"; }
BEFORE=$(rss VmRSS)

START=$(date +%s.%N)
SIGNIN_USER=${USER_NAME:-}
python3 - "$ADDR" "$N" "$SIGNIN_USER" > "$WORK/codes" <<'EOF'
import asyncio, sys
host, port = sys.argv[1].rsplit(":", 1)
n = int(sys.argv[2])
user = sys.argv[3]

async def one(i):
    source = "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), local_addr=(source, 0)), 120)
        b = ("user=%s&password=wrong-password-%d" % (user or "guess%d" % i, i)).encode()
        writer.write(b"POST /admin/login HTTP/1.1\r\nHost: " + sys.argv[1].encode() +
                     b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                     str(len(b)).encode() + b"\r\nConnection: close\r\n\r\n" + b)
        await writer.drain()
        status = (await asyncio.wait_for(reader.readline(), 120)).split()[1].decode()
        writer.close()
        return status
    except Exception as e:
        return "error:" + type(e).__name__

async def main():
    for status in await asyncio.gather(*(one(i) for i in range(n))):
        print(status)

asyncio.run(main())
EOF
END=$(date +%s.%N)
PEAK=$(rss VmHWM)
AFTER=$(rss VmRSS)
echo "laris: $BIN"
echo "sign-ins: $N concurrent, wrong passwords for ${SIGNIN_USER:-made-up user names}, each from its own 127.0.x.y address"
echo "RSS before: ${BEFORE} MB; peak (VmHWM): ${PEAK} MB; after: ${AFTER} MB"
echo "all answered in $(python3 -c "print(round($END - $START, 2))") s"
echo "answers: $(sort "$WORK/codes" | uniq -c | awk '{printf "%s%s x %s", sep, $2, $1; sep=", "}')"
