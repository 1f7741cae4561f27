#!/usr/bin/env bash
# nginx: how many connections per second the lab's built-in client completes against nginx (examples/nginx/nginx.sh, one
# worker, backlog 4096) and, in the same run, against the built-in server, interleaved round after round (medians). A
# connection is connect, send "GET / HTTP/1.0", receive the answer, close; the rate is N over the time from the first
# connect() to the last close. Both run through `halfway run`, as a user runs them, on loopback in one lab host
# (topology single: no link forwarder between them).
#   bench/run.sh nginx [N] [ROUNDS]
# The last line is the ratio nginx/built-in: near 1, the client drives nginx as hard as its own server (the lab is not
# what limits nginx's figure); well below 1, nginx (one worker) is the slower side.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/../.." && pwd)"
n="${1:-5000}"
rounds="${2:-5}"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx: needs nginx (apt-get install nginx-light)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "nginx: needs python3" >&2; exit 2; }
halfway="$root/halfway"
"$halfway" --version >/dev/null
work=$(mktemp -d /tmp/halfway-nginx-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

scenario() { # NAME SERVER-YAML
  cat >"$work/$1.yaml" <<YAML
name: $1
duration: 60s
topology: single
server: $2
clients:
  count: $n
  steps:
    - connect: { timeout: 10s }
    - send: "GET / HTTP/1.0\r\n\r\n"
    - receive: { timeout: 10s }
    - close
YAML
}
scenario builtin '{ port: 8080, backlog: 4096, accept: immediately, reply: "HTTP/1.0 200 OK\r\n\r\npong\n" }'
scenario nginx "{ command: [sh, $root/examples/nginx/nginx.sh, \"8080\", \"4096\", \"16384\"], port: 8080 }"

# connections/s and how many completed, from the run's report.json
rate() {
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["scenarios"][0]
steps = s["step_summary"]
first = min(x["first_ms"] for x in steps if x["step"] == "connect")
last = max(x["last_ms"] for x in steps if x["step"] == "close")
got = sum(x["count"] for x in steps if x["step"] == "receive" and x["result"] == "data")
print(f"{len(s['connections']) / ((last - first) / 1000):.0f} {got}")
PY
}
builtin=(); nginx=()
for round in $(seq "$rounds"); do
  for side in builtin nginx; do
    "$halfway" run -q --no-kernel-events -o "$work/runs" "$work/$side.yaml" >/dev/null
    folder=$(ls -td "$work"/runs/*-"$side" | head -1)
    read -r r got < <(rate "$folder/report.json")
    [ "$got" = "$n" ] || echo "round $round, $side: only $got of $n connections got an answer" >&2
    echo "round $round: $side $r connections/s" >&2
    if [ "$side" = builtin ]; then builtin+=("$r"); else nginx+=("$r"); fi
    rm -rf "$folder"
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ r[NR]=$1 } END { print (NR % 2) ? r[(NR+1)/2] : (r[NR/2] + r[NR/2+1]) / 2 }'; }
b=$(median "${builtin[@]}"); g=$(median "${nginx[@]}")
echo "median connections/s (connect, GET, answer, close; N=$n, $rounds rounds each, interleaved): built-in server $b, nginx (1 worker) $g"
echo "nginx: ratio=$(awk -v a="$g" -v b="$b" 'BEGIN { printf "%.2f", a/b }') (target 0.9)"
