#!/usr/bin/env bash
# Connection storm: connections per second from the first connect() until all N are connected,
# for the tool's client and for a minimal C epoll client, in the same lab host, against the same server
# (the tool's, in a process of its own); plus the tool's client sharing its process with the server, as
# `halfway run` runs them.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
n="${1:-8000}"
out="$here/../out"; mkdir -p "$out"
gcc -O2 -o "$out/storm" "$here/storm.c"
log=$(dotnet build "$here/../Halfway.Bench/Halfway.Bench.csproj" -c Release -o "$out/bench" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
lines=$(dotnet "$out/bench/Halfway.Bench.dll" storm "$n" "$out/storm")
echo "$lines"
# the median of nine rounds each (after a warm-up round): 2 shared cores make single rounds noisy
median() { awk -v kind="$1" '$1 == kind { for (i=1;i<=NF;i++) if ($i ~ /^rate=/) { split($i,a,"="); print a[2] } }' | sort -n |
  awk '{ r[NR]=$1 } END { print (NR % 2) ? r[(NR+1)/2] : (r[NR/2] + r[NR/2+1]) / 2 }'; }
tool=$(echo "$lines" | median tool)
one=$(echo "$lines" | median tool-one-process)
witness=$(echo "$lines" | median tool-one-process-witness)
bare=$(echo "$lines" | median dotnet-bare)
c=$(echo "$lines" | median c)
echo "median connections/s: tool client $tool; tool client and server in one process $one; bare .NET ConnectAsync $bare; C epoll client $c (N=$n, loopback in a lab host, medians of 9 rounds)"
echo "tool client and server in one process: ratio $(awk -v a="$one" -v b="$c" 'BEGIN { printf "%.2f", a/b }')"
echo "kernel witness on/off (one process): $witness / $one connections/s, ratio $(awk -v a="$witness" -v b="$one" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "n/a" }') (target 0.95)"
echo "storm: ratio=$(awk -v a="$tool" -v b="$c" 'BEGIN { printf "%.2f", a/b }') (target 0.9)"
