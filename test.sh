#!/usr/bin/env bash
# Builds everything and runs every test (unit tests and lab tests on the real kernel).
# Installs what the tests need when it is missing. Ends with a plain "N passed, N failed" line.
set -uo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# tshark reads lab captures independently; promtool checks the Prometheus output; chromium loads report.html; nft/tc/ip/ss are read
# by the tests that prove the host's namespace unchanged.
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v chromium >/dev/null 2>&1 || need+=(chromium)   # opens report.html headless, as a user's browser would
# Release and packaging tests: the native build's linker, dpkg-deb, systemd-analyze, unshare.
command -v clang >/dev/null 2>&1 || command -v clang-14 >/dev/null 2>&1 || need+=(clang zlib1g-dev)
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
# The kernel witness: libbpf loads its BPF program (the object itself is compiled by the build with the clang above).
/sbin/ldconfig -p 2>/dev/null | grep -q 'libbpf\.so\.1 ' || need+=(libbpf1)
# The lab tests of the user's own programs run a Python server and client (examples/python) under util-linux setsid.
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v setsid >/dev/null 2>&1 || need+=(util-linux)
command -v escript >/dev/null 2>&1 || need+=(erlang-base)   # examples/erlang: the seed's gen_tcp server and client
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)   # examples/nginx
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${need[*]}"
    # A package's service (nginx's) must not start on the host: policy-rc.d says no while apt runs, unless one is there.
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1; fi
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || echo "test.sh: could not install ${need[*]}; the tests that need them will fail"
    [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
  else
    echo "test.sh: missing ${need[*]} (not root, not installing); the tests that need them will fail or skip"
  fi
fi

if ! dotnet build "$root/Halfway.slnx" -c Debug -nologo -v q; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
log=$(mktemp)
dotnet test "$root/Halfway.slnx" --no-build -c Debug -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The console logger ends with "Total tests: N / Passed: N / Failed: N / Skipped: N" (one per line, zeros left out);
# the minimal one with "Failed: N, Passed: N, Skipped: N". Read whichever is there.
summary=$(grep -E '^Total tests: [0-9]+' "$log" | tail -n 1)
count() { grep -E "^ +$1: +[0-9]+\$" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
if [ -n "$summary" ]; then
  passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
else
  line=$(grep -oE 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | tail -n 1)
  summary=$line
  failed=$(echo "$line" | sed -E 's/Failed: +([0-9]+).*/\1/')
  passed=$(echo "$line" | sed -E 's/.*Passed: +([0-9]+).*/\1/')
  skipped=$(echo "$line" | sed -E 's/.*Skipped: +([0-9]+).*/\1/')
fi
# CI shows only the tail of the output: repeat each failure (name and message) just above the count.
if grep -qE '^ +Failed [A-Za-z]' "$log"; then
  echo "---- failures ----"
  awk '/^ +Failed [A-Za-z]/{show=1; n=0} show{print; if (++n>=25) show=0} /^ +(Passed|Skipped) /{show=0}' "$log"
  echo "------------------"
fi
rm -f "$log"
if [ -z "$summary" ]; then
  echo "no test summary found (exit $status)"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$status" -ne 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
