#!/usr/bin/env bash
# Soak test: the echo_server example under the load_gen example for a number
# of minutes, 64 connections, watching the server's memory.
#
#   scripts/soak.sh [MINUTES]            (default 2)
#
# Every SOAK_SAMPLE_SECONDS (default 5) it samples the server's resident set
# (VmRSS in /proc/<pid>/status). The first SOAK_WARMUP_PERCENT (default 20)
# of the run is warm-up: allocator pools and socket buffers settle there.
# The sample taken at the end of warm-up is the baseline; it fails when a
# later sample exceeds the baseline by more than SOAK_RSS_TOLERANCE_PERCENT
# (default 25) plus SOAK_RSS_SLACK_KB (default 8192, so that a small server
# is not failed for noise), when the server dies, or when load_gen reports a
# failed request (a connection error or a wrong echo; its exit status).
#
# Prints a summary: requests, requests/s, RSS first/baseline/last/max.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-2}"
sample_seconds="${SOAK_SAMPLE_SECONDS:-5}"
warmup_percent="${SOAK_WARMUP_PERCENT:-20}"
tolerance_percent="${SOAK_RSS_TOLERANCE_PERCENT:-25}"
slack_kb="${SOAK_RSS_SLACK_KB:-8192}"
connections=64

if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -eq 0 ]; then
    echo "usage: scripts/soak.sh [MINUTES]  (a whole number of minutes, at least 1)" >&2
    exit 2
fi
seconds=$((minutes * 60))

echo "== building the examples (release)"
cargo build --release --example echo_server --example load_gen
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/release/examples"
work="$(mktemp -d)"

server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints it.
"$bin/echo_server" 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
    addr="$(sed -n 's/^echo server listening on \(.*\)$/\1/p' "$work/server.out")"
    [ -n "$addr" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "soak: the echo server did not start:" >&2
    cat "$work/server.out" "$work/server.err" >&2
    exit 1
fi

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

echo "== soak: $connections connections to $addr for $minutes min (server pid $server_pid)"
"$bin/load_gen" "$addr" --connections "$connections" --seconds "$seconds" \
    >"$work/load.out" 2>"$work/load.err" &
load_pid=$!

warmup_seconds=$((seconds * warmup_percent / 100))
start=$SECONDS
samples=()
baseline=""
first=""
max=0
over=""
while kill -0 "$load_pid" 2>/dev/null; do
    sleep "$sample_seconds"
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "soak: the echo server died" >&2
        break
    fi
    rss="$(rss_kb "$server_pid")"
    [ -z "$rss" ] && continue
    elapsed=$((SECONDS - start))
    samples+=("$rss")
    [ -z "$first" ] && first=$rss
    [ "$rss" -gt "$max" ] && max=$rss
    if [ -z "$baseline" ] && [ "$elapsed" -ge "$warmup_seconds" ]; then
        baseline=$rss
        limit=$((baseline + baseline * tolerance_percent / 100 + slack_kb))
        echo "   ${elapsed}s: RSS ${rss} kB (baseline; limit ${limit} kB)"
    elif [ -n "$baseline" ] && [ "$rss" -gt "$limit" ]; then
        over="${over:-at ${elapsed}s: ${rss} kB}"
        echo "   ${elapsed}s: RSS ${rss} kB  over the limit"
    elif [ $(( ${#samples[@]} % 6 )) -eq 0 ]; then
        echo "   ${elapsed}s: RSS ${rss} kB"
    fi
done
load_status=0
wait "$load_pid" || load_status=$?
server_alive=yes
kill -0 "$server_pid" 2>/dev/null || server_alive=no
last="${samples[${#samples[@]}-1]:-}"

summary="$(grep -E '^[0-9]+ requests in' "$work/load.out" || true)"
requests="$(awk '{ print $1 }' <<<"$summary")"
rate="$(sed -n 's/.*: \([0-9.]*\) requests\/s.*/\1/p' <<<"$summary")"

echo
echo "== soak summary ($minutes min, $connections connections)"
echo "   load_gen:  ${summary:-no summary (see below)}"
echo "   requests:  ${requests:-?}  (${rate:-?} requests/s)"
echo "   RSS kB:    first ${first:-?}, baseline ${baseline:-?}, last ${last:-?}, max ${max}" \
    "(${#samples[@]} samples every ${sample_seconds}s)"
[ -s "$work/load.err" ] && { echo "   load_gen errors:"; head -20 "$work/load.err" | sed 's/^/     /'; }

failures=()
[ "$load_status" -ne 0 ] && failures+=("load_gen exited with status $load_status (failed requests)")
[ "$server_alive" = no ] && failures+=("the echo server died")
[ -z "$baseline" ] && failures+=("no RSS sample after warm-up")
[ -n "$over" ] && failures+=("RSS grew beyond baseline + ${tolerance_percent}% + ${slack_kb} kB ($over)")
if [ "${#failures[@]}" -gt 0 ]; then
    printf '   FAILED: %s\n' "${failures[@]}"
    exit 1
fi
echo "   ok"
