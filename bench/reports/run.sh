#!/usr/bin/env bash
# The run's reports at 9,000 connections: report.json bytes per connection (target <= 1,536), report.html bytes
# (target <= 5 MB), how long Chromium takes to draw the page (its own clock: performance.now() when the page's
# script has drawn everything; target < 2 s; a blank page's load in the same browser, interleaved, is the baseline),
# and what writing report.json, connections.csv and report.html adds to the run's wall time (target <= 10 %).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
out="$here/../out"; mkdir -p "$out"
command -v chromium >/dev/null || { echo "reports: chromium is missing (apt-get install chromium)" >&2; exit 1; }
log=$(dotnet build "$here/../Halfway.Bench/Halfway.Bench.csproj" -c Release -o "$out/bench" -nologo -v q 2>&1) || { echo "$log" >&2; exit 1; }
folder=$(mktemp -d /tmp/halfway-reports-bench.XXXXXX)
trap 'rm -rf "$folder"' EXIT
lines=$(dotnet "$out/bench/Halfway.Bench.dll" reports "$here/storm-9000.yaml" "$folder")
echo "$lines"
get() { echo "$lines" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
blank="$folder/blank.html"
printf '<!doctype html><html><body><script>document.body.setAttribute("data-drawn-ms", performance.now().toFixed(0))</script></body></html>' > "$blank"
drawn() { timeout 120 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --user-data-dir="$folder/profile" --dump-dom "file://$1" 2>/dev/null | grep -o 'data-drawn-ms="[0-9]*"' | grep -o '[0-9]*'; }
page=(); base=()
for round in 1 2 3 4 5 6 7; do
  base+=("$(drawn "$blank")")
  page+=("$(drawn "$folder/report.html")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ r[NR]=$1 } END { print (NR % 2) ? r[(NR+1)/2] : (r[NR/2] + r[NR/2+1]) / 2 }'; }
page_ms=$(median "${page[@]}"); base_ms=$(median "${base[@]}")
n=$(get connections); run_ms=$(get run_ms)
reports_ms=$(( $(get json_ms) + $(get csv_ms) + $(get html_ms) ))
echo "report.json: $(get json_bytes) bytes, $(( $(get json_bytes) / n )) per connection (target <= 1536)"
echo "report.html: $(get html_bytes) bytes (target <= 5242880)"
echo "Chromium draws report.html in ${page_ms} ms (median of 7; rounds: ${page[*]}); a blank page: ${base_ms} ms (rounds: ${base[*]}) (target < 2000)"
echo "writing report.json + connections.csv + report.html: ${reports_ms} ms against a run of ${run_ms} ms (analysis apart: $(get analysis_ms) ms)"
echo "reports: ratio=$(awk -v a="$reports_ms" -v b="$run_ms" 'BEGIN { printf "%.3f", a/b }') (target 0.10)"
