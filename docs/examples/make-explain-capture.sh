#!/usr/bin/env bash
# Makes docs/examples/explain-example.pcap: real half-established connections on this kernel, captured on loopback in a
# private network namespace (the host's namespace is not touched). Needs root (unshare -n), tcpdump, nft and python3.
#   docs/examples/make-explain-capture.sh [OUT.pcap]
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
out="$(readlink -f "${1:-$here/explain-example.pcap}")"
exec unshare -n bash -s "$out" "$here/explain-scenario.py" <<'INNER'
set -euo pipefail
out="$1"; scenario="$2"
ip link set lo up
sysctl -qw net.ipv4.tcp_synack_retries=2 net.ipv4.tcp_syn_retries=2
# A firewall that drops bare ACKs from client ports 41000-41999 to port 8080: the handshake's final ACK and the re-ACKs
# never reach the server, as if lost in the network. Data segments (PSH) pass.
nft -f - <<'NFT'
table inet halfway {
  chain input {
    type filter hook input priority 0;
    tcp dport 8080 tcp sport 41000-41999 tcp flags & (fin | syn | rst | psh | ack) == ack drop
  }
}
NFT
tcpdump -i lo -s 0 -U -w "$out" tcp 2>/dev/null &
capture=$!
sleep 0.5
python3 "$scenario"
sleep 0.5
kill "$capture"
wait "$capture" 2>/dev/null || true
INNER
