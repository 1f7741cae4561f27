#!/usr/bin/env bash
# `halfway watch`: time of one sample (10 listeners, kernel-filtered) against `ss -tln` + `nstat -az`
# in the same lab host, as established connections grow to ~19,000; then the CPU of the real command
# sampling at 1 Hz. Ends with "watch: ratio=X (target 0.5)": at the largest step, for a sample that
# walks the established hash for SYN-RECV requests (the costly kind; a quiet sample skips the walk).
# Usage: bench/run.sh watch [CONNECTIONS (default 19000)] [WARMUP-SECONDS (default 70)] [CPU-SECONDS (default 60)]
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
out="$here/../out/watch"; mkdir -p "$out"
connections="${1:-19000}"
warmup_seconds="${2:-70}"
cpu_seconds="${3:-60}"
log=$(dotnet build "$here/../../src/Halfway.Cli/Halfway.Cli.csproj" -c Release -o "$out/cli" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
log=$(dotnet build "$here/WatchBench/WatchBench.csproj" -c Release -o "$out/bench" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
lines=$(dotnet "$out/bench/WatchBench.dll" "$out/cli/Halfway.Cli.dll" "$connections" "$warmup_seconds" "$cpu_seconds")
echo "$lines"
ratio=$(echo "$lines" | awk '/^result / { split($2,a,"="); print a[2] }')
echo "watch: ratio=$ratio (target 0.5)"
