#!/usr/bin/env bash
# Compiles the witness's BPF program: build.sh SOURCE OUTPUT. Called by Halfway.csproj on every build.
# Without a clang the object is not built and the tool runs without the witness (it says so when a run starts).
set -euo pipefail
source=$1 output=$2
cc=""
for candidate in clang clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
  if command -v "$candidate" >/dev/null 2>&1; then cc=$candidate; break; fi
done
if [ -z "$cc" ]; then
  echo "witness: no clang found; building without the kernel witness (apt-get install clang)"
  rm -f "$output"
  exit 0
fi
mkdir -p "$(dirname "$output")"
# -g: the BTF that CO-RE relocations need travels in the object's .BTF sections.
"$cc" -target bpf -O2 -g -Wall -Werror -c "$source" -o "$output.tmp"
mv "$output.tmp" "$output"
