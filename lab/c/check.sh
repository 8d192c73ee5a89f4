#!/usr/bin/env bash
# Self-check of vmac-echo / vmac-prober inside throwaway network namespaces.
# Needs root. Creates only namespaces named cchk-* and deletes them on exit
# (also on failure or Ctrl-C). Never touches the host's interfaces, routes
# or firewall: every link is created directly inside a cchk-* namespace.
#
#   lab/c/check.sh [--quick]
#
# Topology:
#   cchk-c (client): cv1 with 300 addresses 10.199.1.1-150, 10.199.2.1-150 /16
#                    cw1 (no address); "ip rule from 10.199.2.0/24 -> table 100
#                    -> 10.199.0.1 dev cw1", so the .2.x half talks to cchk-s2
#   cchk-s1: cv0 10.199.0.1/16, runs vmac-echo --name n1
#   cchk-s2: cw0 10.199.0.1/16, runs vmac-echo --name n2
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$HERE/../bin
OUT=${OUT:-$(mktemp -d /tmp/cchk.XXXXXX)}
QUICK=${1:-}
VIP=10.199.0.1
UDP=7000
TCP=7001
NS_C=cchk-c NS_S1=cchk-s1 NS_S2=cchk-s2
ECHO_PIDS=()

cleanup() {
    set +e
    for p in "${ECHO_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for ns in $NS_C $NS_S1 $NS_S2; do
        ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    ip netns list | grep -q '^cchk-' && echo "WARNING: cchk-* namespaces left" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

make -s -C "$HERE"
for ns in $NS_C $NS_S1 $NS_S2; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done

# Links are created inside the namespaces (peer moved to the other one).
ip -n $NS_S1 link add cv0 type veth peer name cv1 netns $NS_C
ip -n $NS_S2 link add cw0 type veth peer name cw1 netns $NS_C
for ns in $NS_C $NS_S1 $NS_S2; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip -n $NS_S1 link set cv0 up
ip -n $NS_S2 link set cw0 up
ip -n $NS_C link set cv1 up
ip -n $NS_C link set cw1 up
ip netns exec $NS_C sysctl -qw net.ipv4.conf.cv1.rp_filter=0 net.ipv4.conf.cw1.rp_filter=0

# Start the echo servers BEFORE the VIP exists (IP_FREEBIND).
start_echo() { # ns name outfile
    ip netns exec "$1" /usr/bin/time -v -o "$3.time" "$BIN/vmac-echo" --name "$2" --addr $VIP \
        --udp $UDP --tcp $TCP --freeze-ms 300 >"$3" 2>"$3.err" &
    for _ in $(seq 50); do grep -q '"ready"' "$3" 2>/dev/null && break; sleep 0.05; done
    grep -q '"ready"' "$3" || fail "echo $2 did not start: $(cat "$3.err")"
    ECHO_PIDS+=("$(jq -r .pid <(head -1 "$3"))")
}
start_echo $NS_S1 n1 "$OUT/echo-n1.out"
start_echo $NS_S2 n2 "$OUT/echo-n2.out"
pass "echo started before the VIP existed (IP_FREEBIND)"

ip -n $NS_S1 addr add $VIP/16 dev cv0
ip -n $NS_S2 addr add $VIP/16 dev cw0
{
    for i in $(seq 1 150); do echo "addr add 10.199.1.$i/16 dev cv1"; done
    for i in $(seq 1 150); do echo "addr add 10.199.2.$i/16 dev cv1"; done
} | ip -n $NS_C -batch -
ip -n $NS_C route add $VIP dev cw1 table 100
ip -n $NS_C rule add from 10.199.2.0/24 table 100 pref 100
{ for i in $(seq 1 150); do echo 10.199.1.$i; done; for i in $(seq 1 150); do echo 10.199.2.$i; done; } >"$OUT/addrs300"
sleep 0.3 # let the new addresses settle

PROBER=(ip netns exec $NS_C "$BIN/vmac-prober")

# ---- argument validation
set +e
"$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/addrs300" --interval-us 50 --duration-ms 10 2>/dev/null
[ $? -eq 2 ] || fail "interval 50 us must be rejected with exit 2"
"$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/addrs300" --interval-us 1000 --duration-ms 600001 2>/dev/null
[ $? -eq 2 ] || fail "duration > 600000 must be rejected with exit 2"
"$BIN/vmac-echo" --name 'bad name' --addr $VIP --udp 1 2>/dev/null
[ $? -eq 2 ] || fail "bad node name must be rejected with exit 2"
set -e
pass "argument validation exits 2"

# ---- tcp: 300 addresses
"${PROBER[@]}" tcp --vip $VIP --port $TCP --addrs "$OUT/addrs300" --timeout-ms 2000 >"$OUT/tcp.json"
jq -e '.ok == 300 and .nodes.n1 == 150 and .nodes.n2 == 150' "$OUT/tcp.json" >/dev/null ||
    fail "tcp: $(jq -c '{ok,failed,nodes}' "$OUT/tcp.json")"
jq -e '[.addrs[] | select(.addr|startswith("10.199.2.")) | .node] | all(. == "n2")' "$OUT/tcp.json" >/dev/null ||
    fail "tcp: .2.x should be answered by n2"
pass "tcp 300 addresses: $(jq -c '{ok,failed,nodes,elapsedUs}' "$OUT/tcp.json")"

# tcp errors: closed port -> ECONNREFUSED; unroutable VIP -> ETIMEDOUT
head -3 "$OUT/addrs300" >"$OUT/addrs3"
"${PROBER[@]}" tcp --vip $VIP --port 7999 --addrs "$OUT/addrs3" --timeout-ms 300 >"$OUT/tcp-refused.json"
jq -e '[.addrs[].error] | all(. == "ECONNREFUSED")' "$OUT/tcp-refused.json" >/dev/null ||
    fail "tcp refused: $(cat "$OUT/tcp-refused.json")"
"${PROBER[@]}" tcp --vip 10.199.255.254 --port $TCP --addrs "$OUT/addrs3" --timeout-ms 300 >"$OUT/tcp-timeout.json"
jq -e '[.addrs[] | .error] | all(. == "ETIMEDOUT" or . == "EHOSTUNREACH")' "$OUT/tcp-timeout.json" >/dev/null ||
    fail "tcp timeout: $(cat "$OUT/tcp-timeout.json")"
pass "tcp errors: $(jq -c '[.addrs[].error]' "$OUT/tcp-refused.json") $(jq -c '[.addrs[].error]' "$OUT/tcp-timeout.json")"

# tcp echo after the greeting (plain echo)
reply=$(ip netns exec $NS_C python3 - <<EOF
import socket
s = socket.create_connection(("$VIP", $TCP), timeout=2, source_address=("10.199.1.7", 0))
f = s.makefile("rb")
line = f.readline()
s.sendall(b"x" * 100000)
got = f.read(100000)
print(line.decode().strip(), len(got), got == b"x" * 100000)
EOF
)
[ "$reply" = "n1 100000 True" ] || fail "tcp echo: $reply"
pass "tcp greeting + 100 kB echo: $reply"

# ---- udp: 300 addresses x 1 ms for 3 s, with CPU accounting
DUR=3000
[ "$QUICK" = --quick ] && DUR=1000
read -r _ u0 n0 s0 i0 _ </proc/stat
ip netns exec $NS_C /usr/bin/time -v -o "$OUT/udp.time" "$BIN/vmac-prober" udp --vip $VIP --port $UDP \
    --addrs "$OUT/addrs300" --interval-us 1000 --duration-ms $DUR --timeline "$OUT/udp.tl.csv" >"$OUT/udp.json"
read -r _ u1 n1 s1 i1 _ </proc/stat
busy=$(((u1 + n1 + s1) - (u0 + n0 + s0)))
idle=$((i1 - i0))
jq -e '[.addrs[] | .lost == 0 and .duplicates == 0 and .sent > 0] | all' "$OUT/udp.json" >/dev/null ||
    fail "udp: loss/dups: $(jq -c '[.addrs[] | select(.lost > 0 or .duplicates > 0) | {addr,sent,lost,duplicates}][:5]' "$OUT/udp.json")"
jq -e '[.addrs[] | select(.addr|startswith("10.199.2.")) | .nodes | keys == ["n2"]] | all' "$OUT/udp.json" >/dev/null ||
    fail "udp: .2.x should be answered only by n2"
pcpu=$(grep 'Percent of CPU' "$OUT/udp.time" | awk '{print $NF}')
pass "udp 300 x 1 ms x ${DUR} ms: $(jq -c '{rounds,behindTicks,skippedRounds,maxLateUs,maxRoundUs,cpuUserMs,cpuSysMs,
  sent:([.addrs[].sent]|add), answered:([.addrs[].answered]|add), lost:([.addrs[].lost]|add),
  dups:([.addrs[].duplicates]|add), maxGapUs:([.addrs[].maxGapUs]|max), rttMaxUs:([.addrs[].rttMaxUs]|max)}' "$OUT/udp.json")"
echo "    prober CPU (time -v): $pcpu; machine busy during run: $((100 * busy / (busy + idle)))% of 2 cores"
echo "    timeline lines: $(($(wc -l <"$OUT/udp.tl.csv") - 1))"

# ---- udp: injected gap (SIGUSR1 freezes n1 for 300 ms), node change, duplicates
"${PROBER[@]}" udp --vip $VIP --port $UDP --addrs "$OUT/addrs300" --interval-us 1000 --duration-ms 2000 \
    --timeline "$OUT/fault.tl.csv" >"$OUT/fault.json" &
PP=$!
sleep 0.5
ip netns exec $NS_S1 kill -USR1 "${ECHO_PIDS[0]}" # n1 frozen 300 ms
sleep 0.6
ip -n $NS_C rule del from 10.199.2.0/24 table 100 pref 100 # .2.x moves n2 -> n1
wait $PP
jq -e '[.addrs[] | select(.addr|startswith("10.199.1.")) | .maxGapUs >= 280000 and .maxGapUs < 400000] | all' "$OUT/fault.json" >/dev/null ||
    fail "freeze gap: $(jq -c '[.addrs[] | {addr,maxGapUs}][:3]' "$OUT/fault.json")"
jq -e '[.addrs[] | select(.addr|startswith("10.199.2.")) | (.nodes|keys) == ["n1","n2"] and .lastNode == "n1"] | all' "$OUT/fault.json" >/dev/null ||
    fail "node change: $(jq -c '[.addrs[] | select(.addr|startswith("10.199.2.")) | {addr,nodes,lastNode}][:3]' "$OUT/fault.json")"
grep -q ',0,gap_begin,n1' "$OUT/fault.tl.csv" && grep -q ',0,gap_end,n1' "$OUT/fault.tl.csv" ||
    fail "timeline lacks the gap for addr 0"
grep -q ',150,node,n1' "$OUT/fault.tl.csv" || fail "timeline lacks the node change for addr 150"
pass "freeze 300 ms seen as maxGapUs $(jq -c '[.addrs[:150][] | .maxGapUs] | [min,max]' "$OUT/fault.json"), lost $(jq '[.addrs[:150][].lost]|add' "$OUT/fault.json"); node change n2->n1 in timeline; $(($(wc -l <"$OUT/fault.tl.csv") - 1)) timeline lines"

# duplicates and loss via netem on the client's egress (if available)
if ip netns exec $NS_C tc qdisc add dev cv1 root netem duplicate 100% 2>/dev/null; then
    head -10 "$OUT/addrs300" >"$OUT/addrs10"
    "${PROBER[@]}" udp --vip $VIP --port $UDP --addrs "$OUT/addrs10" --interval-us 1000 --duration-ms 300 >"$OUT/dup.json"
    jq -e '[.addrs[] | .duplicates == .sent and .lost == 0 and .nodes.n1 == 2 * .sent] | all' "$OUT/dup.json" >/dev/null ||
        fail "dup: $(jq -c '[.addrs[] | {sent,answered,duplicates,nodes}][:3]' "$OUT/dup.json")"
    pass "netem duplicate 100%: duplicates == sent"
    ip netns exec $NS_C tc qdisc change dev cv1 root netem loss 20%
    "${PROBER[@]}" udp --vip $VIP --port $UDP --addrs "$OUT/addrs10" --interval-us 1000 --duration-ms 1000 >"$OUT/loss.json"
    jq -e '([.addrs[].lost]|add) as $l | ([.addrs[].sent]|add) as $s | ($l / $s) > 0.15 and ($l / $s) < 0.25 and ([.addrs[].duplicates]|add) == 0' "$OUT/loss.json" >/dev/null ||
        fail "loss: $(jq -c '[.addrs[] | {sent,lost}]' "$OUT/loss.json")"
    pass "netem loss 20%: lost $(jq '[.addrs[].lost]|add' "$OUT/loss.json") of $(jq '[.addrs[].sent]|add' "$OUT/loss.json"), maxMissRun $(jq '[.addrs[].maxMissRun]|max' "$OUT/loss.json")"
    ip netns exec $NS_C tc qdisc del dev cv1 root
else
    echo "skip: netem not available (duplicate/loss checks)"
fi

# ---- echo statistics and CPU
for p in "${ECHO_PIDS[@]}"; do kill -TERM "$p"; done
for _ in $(seq 50); do
    [ -s "$OUT/echo-n1.out.time" ] && [ -s "$OUT/echo-n2.out.time" ] && break
    sleep 0.1
done
ECHO_PIDS=()
for n in n1 n2; do
    echo "    echo $n: $(grep '"exit"' "$OUT/echo-$n.out" | jq -c '{udpIn,udpOut,udpFrozenDrops,udpKernelDrops,tcpAccepted,tcpOpen}') \
cpu $(grep -E 'Percent of CPU|Elapsed' "$OUT/echo-$n.out.time" | awk -F': ' '{printf "%s ", $2}')"
done
echo "all checks passed; artifacts in $OUT"
