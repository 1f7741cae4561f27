#!/usr/bin/env bash
# The lab's userspace link: packets per second through the forwarder (no delay) and the accuracy of a
# 5 ms delay. The ratio compares the forwarder's rate with what the C client's storm needs (3 packets
# per connection, from bench/storm): at 1 or more the link is not a storm's bottleneck.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
out="$here/../out"; mkdir -p "$out"
gcc -O2 -o "$out/storm" "$here/../storm/storm.c"
log=$(dotnet build "$here/../Halfway.Bench/Halfway.Bench.csproj" -c Release -o "$out/bench" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
lines=$(dotnet "$out/bench/Halfway.Bench.dll" link 3)
echo "$lines"
storm=$(dotnet "$out/bench/Halfway.Bench.dll" storm 5000 "$out/storm" | awk '/^c / { for (i=1;i<=NF;i++) if ($i ~ /^rate=/) { split($i,a,"="); if (a[2]>m) m=a[2] } } END { print m }')
pps=$(echo "$lines" | awk '/^link/ { for (i=1;i<=NF;i++) if ($i ~ /^pps=/) { split($i,a,"="); print a[2] } }')
echo "C client storm on loopback: $storm connections/s = $(awk -v s="$storm" 'BEGIN { printf "%.0f", 3*s }') packets/s one way"
echo "link: ratio=$(awk -v p="$pps" -v s="$storm" 'BEGIN { printf "%.2f", p/(3*s) }') (target 1.0)"
