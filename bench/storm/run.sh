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
# the median of five rounds each (after a warm-up round): 2 shared cores make single rounds noisy
median() { awk -v kind="$1" '$1 == kind { for (i=1;i<=NF;i++) if ($i ~ /^rate=/) { split($i,a,"="); print a[2] } }' | sort -n |
  awk '{ r[NR]=$1 } END { print (NR % 2) ? r[(NR+1)/2] : (r[NR/2] + r[NR/2+1]) / 2 }'; }
tool=$(echo "$lines" | median tool)
bare=$(echo "$lines" | median dotnet-bare)
c=$(echo "$lines" | median c)
echo "median connections/s: tool client $tool; bare .NET ConnectAsync $bare; C epoll client $c (N=$n, loopback in a lab host, 5 rounds)"
echo "storm: ratio=$(awk -v a="$tool" -v b="$c" 'BEGIN { printf "%.2f", a/b }') (target 0.9)"
