#!/usr/bin/env bash
# Runs one benchmark: bench/run.sh NAME runs bench/NAME/run.sh, which measures the tool and its
# baseline in the same run and ends with "NAME: ratio=X (target Y)".
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
if [ $# -lt 1 ] || [ ! -x "$here/$1/run.sh" ]; then
  echo "usage: bench/run.sh NAME   (NAME: $(cd "$here" && ls -d */ 2>/dev/null | grep -v Halfway | tr -d / | tr '\n' ' '))" >&2
  exit 2
fi
name="$1"; shift
exec "$here/$name/run.sh" "$@"
