#!/usr/bin/env bash
# Connection storm: connections per second from the first connect() until all N are connected,
# for the tool's client and for a minimal C epoll client, in the same lab host, same server.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
n="${1:-8000}"
out="$here/../out"; mkdir -p "$out"
gcc -O2 -o "$out/storm" "$here/storm.c"
log=$(dotnet build "$here/../Halfway.Bench/Halfway.Bench.csproj" -c Release -o "$out/bench" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
lines=$(dotnet "$out/bench/Halfway.Bench.dll" storm "$n" "$out/storm")
echo "$lines"
# the best of three rounds each (after a warm-up round), so a one-off hiccup on 2 shared cores does not decide
tool=$(echo "$lines" | awk '/^tool/ { for (i=1;i<=NF;i++) if ($i ~ /^rate=/) { split($i,a,"="); if (a[2]>m) m=a[2] } } END { print m }')
c=$(echo "$lines" | awk '/^c / { for (i=1;i<=NF;i++) if ($i ~ /^rate=/) { split($i,a,"="); if (a[2]>m) m=a[2] } } END { print m }')
echo "tool client: $tool connections/s; C epoll client: $c connections/s (N=$n, loopback in a lab host, best of 3 after a warm-up)"
echo "storm: ratio=$(awk -v a="$tool" -v b="$c" 'BEGIN { printf "%.2f", a/b }') (target 0.9)"
