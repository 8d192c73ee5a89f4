#!/usr/bin/env bash
# Self-check of vmac-echo / vmac-prober inside throwaway network namespaces.
# Needs root, jq, python3. Creates only namespaces named cchk-* and deletes
# them on exit (also on failure or Ctrl-C). Never touches the host's
# interfaces, routes or firewall: every link is created directly inside a
# cchk-* namespace.
#
#   lab/c/check.sh            correctness checks + a CPU/capacity sweep
#   SWEEP=0 lab/c/check.sh    correctness checks only
#
# Topology:
#   cchk-c  client: cv1 with 300 addresses 10.199.1.1-150, 10.199.2.1-150 /16
#           and fd99::1:1-3/64; cw1 without addresses; "ip rule from
#           10.199.2.0/24 table 100" sends the .2.x half to cchk-s2 via cw1.
#   cchk-s1 cv0 10.199.0.1/16 + fd99::1/64, vmac-echo n1 (and n1v6)
#   cchk-s2 cw0 10.199.0.1/16,              vmac-echo n2
#   cchk-d  duplicate client: bridge br0 = {d1 -> cchk-s1, d2 -> cchk-s2},
#           10.198.1.1-10/16, VIP neighbour = ff:ff:ff:ff:ff:ff so every probe
#           is flooded to both servers and answered twice.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$HERE/../bin}
OUT=${OUT:-$(mktemp -d /tmp/cchk.XXXXXX)}
SWEEP=${SWEEP:-1}
VIP=10.199.0.1 VIP6=fd99::1
UDP=7000 TCP=7001 UDP6=7100 TCP6=7101
NSS=(cchk-c cchk-s1 cchk-s2 cchk-d)
declare -A EPID # echo name -> pid

cleanup() {
    set +e
    for p in "${EPID[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for ns in "${NSS[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    if ip netns list | grep -q '^cchk-'; then echo "WARNING: cchk-* namespaces left" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
warn() { echo "WARN: $*"; }
inc() { ip netns exec "$@"; }

make -s -C "$HERE"
for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
ip -n cchk-s1 link add cv0 type veth peer name cv1 netns cchk-c
ip -n cchk-s2 link add cw0 type veth peer name cw1 netns cchk-c
ip -n cchk-s1 link add dv0 type veth peer name d1 netns cchk-d
ip -n cchk-s2 link add dw0 type veth peer name d2 netns cchk-d
for ns in "${NSS[@]}"; do
    ip -n "$ns" link set lo up
    inc "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
for l in cv0 dv0; do ip -n cchk-s1 link set $l up; done
for l in cw0 dw0; do ip -n cchk-s2 link set $l up; done
for l in cv1 cw1; do ip -n cchk-c link set $l up; inc cchk-c sysctl -qw net.ipv4.conf.$l.rp_filter=0; done
ip -n cchk-d link add br0 type bridge
for l in d1 d2; do ip -n cchk-d link set $l master br0; ip -n cchk-d link set $l up; done
ip -n cchk-d link set br0 up

# Echo servers start BEFORE their addresses exist (IP_FREEBIND).
start_echo() { # ns name addr udp tcp
    local out=$OUT/echo-$2.out
    inc "$1" "$BIN/vmac-echo" --name "$2" --addr "$3" --udp "$4" --tcp "$5" --freeze-ms 300 >"$out" 2>"$out.err" &
    for _ in $(seq 100); do grep -q '"ready"' "$out" 2>/dev/null && break; sleep 0.05; done
    grep -q '"ready"' "$out" || fail "echo $2 did not start: $(cat "$out.err")"
    EPID[$2]=$(head -1 "$out" | jq -r .pid)
}
start_echo cchk-s1 n1 $VIP $UDP $TCP
start_echo cchk-s2 n2 $VIP $UDP $TCP
start_echo cchk-s1 n1v6 $VIP6 $UDP6 $TCP6
pass "echo servers started before their VIP existed (IP_FREEBIND, v4 and v6)"

ip -n cchk-s1 addr add $VIP/16 dev cv0
ip -n cchk-s2 addr add $VIP/16 dev cw0
ip -n cchk-s1 addr add $VIP6/64 dev cv0 nodad
ip -n cchk-s1 route add 10.198.0.0/16 dev dv0
ip -n cchk-s2 route add 10.198.0.0/16 dev dw0
{
    for i in $(seq 1 150); do echo "addr add 10.199.1.$i/16 dev cv1"; done
    for i in $(seq 1 150); do echo "addr add 10.199.2.$i/16 dev cv1"; done
    for i in 1 2 3; do echo "addr add fd99::1:$i/64 dev cv1 nodad"; done
} | ip -n cchk-c -batch -
ip -n cchk-c route add $VIP dev cw1 table 100
ip -n cchk-c rule add from 10.199.2.0/24 table 100 pref 100
for i in $(seq 1 10); do ip -n cchk-d addr add 10.198.1.$i/16 dev br0; done
ip -n cchk-d route add $VIP dev br0
ip -n cchk-d neigh replace $VIP lladdr ff:ff:ff:ff:ff:ff dev br0 nud permanent

{ for i in $(seq 1 150); do echo 10.199.1.$i; done; for i in $(seq 1 150); do echo 10.199.2.$i; done; } >"$OUT/a300"
head -3 "$OUT/a300" >"$OUT/a3"
printf '# v6\nfd99::1:1\nfd99::1:2\n\nfd99::1:3\n' >"$OUT/a6"
for i in $(seq 1 10); do echo 10.198.1.$i; done >"$OUT/adup"
sleep 0.3

P=(inc cchk-c "$BIN/vmac-prober")
UDP300=(udp --vip $VIP --port $UDP --addrs "$OUT/a300")
stats() { # name -> prints the echo's current counters as one JSON line
    local n before
    before=$(grep -c '"stats"' "$OUT/echo-$1.out" || true)
    kill -USR2 "${EPID[$1]}"
    for _ in $(seq 100); do
        n=$(grep -c '"stats"' "$OUT/echo-$1.out" || true)
        [ "$n" -gt "$before" ] && break
        sleep 0.02
    done
    grep '"stats"' "$OUT/echo-$1.out" | tail -1
}
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime+stime, 1/100 s
sumj() { jq "[.addrs[].$2] | add" "$1"; }

# ------------------------------------------------------------ validation
expect2() {
    local rc=0
    "$@" >/dev/null 2>"$OUT/err.txt" || rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2 from: $* (got $rc)"
    [ -s "$OUT/err.txt" ] || fail "no message on stderr from: $*"
}
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a300" --interval-us 99 --duration-ms 10
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a300" --interval-us 1000 --duration-ms 600001
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a300" --interval-us 1000
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a6" --interval-us 1000 --duration-ms 10
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs /nonexistent --interval-us 1000 --duration-ms 10
for i in $(seq 0 1999); do echo "10.197.$((i / 250)).$((i % 250 + 1))"; done >"$OUT/a2000"
expect2 "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a2000" --interval-us 100 --duration-ms 600000
expect2 "$BIN/vmac-prober" tcp --vip $VIP --port $TCP --addrs "$OUT/a3" --shared-socket
expect2 "$BIN/vmac-prober" tcp --vip 10.1.2.300 --port $TCP --addrs "$OUT/a3"
expect2 "$BIN/vmac-prober" bogus
expect2 "$BIN/vmac-echo" --name 'bad name' --addr $VIP --udp 1
expect2 "$BIN/vmac-echo" --name n1 --addr $VIP
expect2 "$BIN/vmac-echo" --name n1 --addr $VIP --udp 70000
pass "argument validation: exit 2 with a message ($(head -1 "$OUT/err.txt"))"

# ------------------------------------------------------------------ tcp
"${P[@]}" tcp --vip $VIP --port $TCP --addrs "$OUT/a300" --timeout-ms 2000 >"$OUT/tcp.json"
jq -e '.ok == 300 and .nodes.n1 == 150 and .nodes.n2 == 150' "$OUT/tcp.json" >/dev/null ||
    fail "tcp: $(jq -c '{ok,failed,nodes}' "$OUT/tcp.json")"
jq -e '[.addrs[] | (.addr|startswith("10.199.2.")) == (.node == "n2")] | all' "$OUT/tcp.json" >/dev/null ||
    fail "tcp: only .2.x should be answered by n2"
pass "tcp 300 addresses: $(jq -c '{ok,failed,nodes,elapsedUs}' "$OUT/tcp.json")"

"${P[@]}" tcp --vip $VIP --port 7999 --addrs "$OUT/a3" --timeout-ms 300 >"$OUT/tcp-refused.json"
jq -e '[.addrs[].error] | all(. == "ECONNREFUSED")' "$OUT/tcp-refused.json" >/dev/null ||
    fail "tcp refused: $(cat "$OUT/tcp-refused.json")"
"${P[@]}" tcp --vip 10.199.255.254 --port $TCP --addrs "$OUT/a3" --timeout-ms 300 >"$OUT/tcp-timeout.json"
jq -e '[.addrs[].error] | all(. == "ETIMEDOUT" or . == "EHOSTUNREACH")' "$OUT/tcp-timeout.json" >/dev/null ||
    fail "tcp timeout: $(cat "$OUT/tcp-timeout.json")"
pass "tcp errors: closed port $(jq -c '[.addrs[].error]' "$OUT/tcp-refused.json"), no host $(jq -c '[.addrs[].error]' "$OUT/tcp-timeout.json")"

reply=$(inc cchk-c python3 - <<EOF
import socket
s = socket.create_connection(("$VIP", $TCP), timeout=2, source_address=("10.199.1.7", 0))
f = s.makefile("rb")
line = f.readline()
s.sendall(b"x" * 1000000)
got = f.read(1000000)
s.shutdown(socket.SHUT_WR)
print(line.decode().strip(), len(got), got == b"x" * 1000000, f.read() == b"")
EOF
)
[ "$reply" = "n1 1000000 True True" ] || fail "tcp echo: $reply"
pass "tcp greeting + 1 MB plain echo + close on EOF: $reply"

# ---------------------------------------------- udp correctness, 300 x 10 ms
for mode in per-addr shared; do
    extra=()
    [ $mode = shared ] && extra=(--shared-socket)
    s1=$(stats n1) s2=$(stats n2)
    "${P[@]}" "${UDP300[@]}" --interval-us 10000 --duration-ms 3000 "${extra[@]}" --timeline "$OUT/u10-$mode.csv" >"$OUT/u10-$mode.json"
    e1=$(stats n1) e2=$(stats n2)
    J=$OUT/u10-$mode.json
    jq -e '.rounds as $r | [.addrs[] | .lost == 0 and .duplicates == 0 and .sent == $r and .answered == $r and .badReplies == 0 and .foreignReplies == 0] | all' "$J" >/dev/null ||
        fail "udp $mode: $(jq -c '[.addrs[] | select(.lost > 0 or .duplicates > 0 or .sent != .answered) | {addr,sent,answered,lost,duplicates}][:5]' "$J")"
    jq -e '[.addrs[] | (.nodes | keys) == (if (.addr|startswith("10.199.2.")) then ["n2"] else ["n1"] end)] | all' "$J" >/dev/null ||
        fail "udp $mode: wrong node assignment"
    out=$(( $(jq -n "$e1.udpOut - $s1.udpOut + $e2.udpOut - $s2.udpOut") ))
    [ "$out" -eq "$(sumj "$J" answered)" ] || fail "udp $mode: echoes sent $out replies, prober counted $(sumj "$J" answered)"
    [ "$(head -1 "$OUT/u10-$mode.csv")" = "t_us,addr_index,event,node" ] || fail "timeline header"
    [ "$(jq .behindTicks "$J")" -eq 0 ] || warn "udp $mode 300 x 10 ms fell behind: $(jq -c '{behindTicks,maxLateUs}' "$J") (machine busy?)"
    pass "udp $mode 300 x 10 ms x 3 s: all $(sumj "$J" sent) answered once, echo replies == prober answers, $(jq -c '{behindTicks,maxLateUs,avgRoundUs,maxRoundUs,cpuUserMs,cpuSysMs}' "$J"), timeline $(($(wc -l <"$OUT/u10-$mode.csv") - 1)) lines"
done

"${P[@]}" "${UDP300[@]}" --interval-us 1000 --duration-ms 2000 --max-probes 5 --wait-ms 50 >"$OUT/max.json"
jq -e '.rounds == 5 and ([.addrs[] | .sent == 5 and .answered == 5] | all)' "$OUT/max.json" >/dev/null ||
    fail "max-probes: $(jq -c '{rounds}' "$OUT/max.json")"
pass "--max-probes 5 stops after 5 rounds ($(jq .endUs "$OUT/max.json") us)"

# ------------------------------ injected gap (SIGUSR1) + node change (rule)
s1=$(stats n1)
"${P[@]}" "${UDP300[@]}" --interval-us 5000 --duration-ms 2000 --timeline "$OUT/fault.csv" >"$OUT/fault.json" &
PP=$!
sleep 0.5
kill -USR1 "${EPID[n1]}" # n1 ignores UDP for 300 ms
sleep 0.6
ip -n cchk-c rule del from 10.199.2.0/24 table 100 pref 100 # .2.x: n2 -> n1
wait $PP
e1=$(stats n1)
J=$OUT/fault.json
jq -e '[.addrs[:150][] | .maxGapUs >= 290000 and .maxGapUs < 340000] | all' "$J" >/dev/null ||
    fail "freeze gap: $(jq -c '[.addrs[:150][] | .maxGapUs] | [min,max]' "$J")"
jq -e '[.addrs[150:][] | (.nodes|keys) == ["n1","n2"] and .lastNode == "n1" and .lost == 0] | all' "$J" >/dev/null ||
    fail "node change: $(jq -c '[.addrs[150:][] | {addr,nodes,lastNode,lost}][:3]' "$J")"
frozen=$(jq -n "$e1.udpFrozenDrops - $s1.udpFrozenDrops")
lost=$(jq '[.addrs[:150][].lost] | add' "$J")
[ "$lost" -eq "$frozen" ] || fail "prober lost $lost, echo n1 dropped $frozen while frozen"
grep -q '^[0-9]*,0,gap_begin,n1$' "$OUT/fault.csv" && grep -q '^[0-9]*,0,gap_end,n1$' "$OUT/fault.csv" ||
    fail "timeline lacks the gap of addr 0"
grep -q '^[0-9]*,150,node,n1$' "$OUT/fault.csv" || fail "timeline lacks the node change of addr 150"
pass "SIGUSR1 freeze 300 ms: maxGapUs $(jq -c '[.addrs[:150][] | .maxGapUs] | [min,max]' "$J"), lost $lost == echo frozen drops $frozen; .2.x moved n2 -> n1 without loss; timeline $(($(wc -l <"$OUT/fault.csv") - 1)) lines: $(sed -n '2p' "$OUT/fault.csv") ..."
ip -n cchk-c rule add from 10.199.2.0/24 table 100 pref 100

# ICMP port unreachable (no echo on that port) is counted per address
"${P[@]}" udp --vip $VIP --port 7999 --addrs "$OUT/a3" --interval-us 10000 --duration-ms 100 --wait-ms 50 >"$OUT/icmp.json"
jq -e '[.addrs[] | .answered == 0 and .lost == .sent and .icmpErrors > 0 and .firstUs == null and .lastNode == null] | all' "$OUT/icmp.json" >/dev/null ||
    fail "icmp: $(jq -c '[.addrs[] | {sent,answered,lost,icmpErrors,sendErrors}]' "$OUT/icmp.json")"
pass "no listener: lost == sent, icmpErrors $(jq -c '[.addrs[].icmpErrors]' "$OUT/icmp.json"), sendErrors $(jq -c '[.addrs[].sendErrors]' "$OUT/icmp.json")"

# ------------------------------------- duplicates from two nodes (flooded)
"$BIN/vmac-prober" --help >/dev/null
inc cchk-d "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/adup" --interval-us 1000 --duration-ms 500 --timeline "$OUT/dup.csv" >"$OUT/dup.json"
jq -e '.rounds as $r | $r > 400 and ([.addrs[] | .sent == $r and .answered == $r and .duplicates == $r and .lost == 0 and .nodes.n1 == $r and .nodes.n2 == $r] | all)' "$OUT/dup.json" >/dev/null ||
    fail "dup: $(jq -c '[.addrs[] | {sent,answered,duplicates,nodes}][:3]' "$OUT/dup.json")"
grep -q ',0,dup_begin,' "$OUT/dup.csv" && grep -q ',0,dup_end,' "$OUT/dup.csv" || fail "timeline lacks dup_begin/dup_end"
pass "both nodes answer every probe: duplicates == answered == sent == $(jq .rounds "$OUT/dup.json") per address, nodes $(jq -c .addrs[0].nodes "$OUT/dup.json"); timeline: $(grep -c dup_ "$OUT/dup.csv") dup_* lines"

# ------------------------------------------------------------------ IPv6
for mode in per-addr shared; do
    extra=()
    [ $mode = shared ] && extra=(--shared-socket)
    "${P[@]}" udp --vip $VIP6 --port $UDP6 --addrs "$OUT/a6" --interval-us 1000 --duration-ms 300 "${extra[@]}" >"$OUT/v6-$mode.json"
    jq -e '.rounds as $r | $r > 250 and (.addrs | length) == 3 and ([.addrs[] | .lost == 0 and .answered == $r and .nodes.n1v6 == $r] | all)' "$OUT/v6-$mode.json" >/dev/null ||
        fail "v6 $mode: $(jq -c '[.addrs[] | {addr,sent,answered,lost}]' "$OUT/v6-$mode.json")"
done
"${P[@]}" tcp --vip $VIP6 --port $TCP6 --addrs "$OUT/a6" >"$OUT/v6-tcp.json"
jq -e '.ok == 3 and .nodes.n1v6 == 3' "$OUT/v6-tcp.json" >/dev/null || fail "v6 tcp: $(cat "$OUT/v6-tcp.json")"
pass "IPv6: udp (per-addr and shared) and tcp via $VIP6"

# ------------------------------------------------------ CPU / capacity sweep
# Per-process CPU only: /proc/stat totals proved unreliable on this VM.
if [ "$SWEEP" != 0 ]; then
    echo "capacity sweep: 3 s each (machine has $(nproc) cores; other load on it skews this)"
    head -60 "$OUT/a300" >"$OUT/a60"
    for run in "300 10000 per-addr" "300 5000 per-addr" "300 2000 per-addr" "300 1000 per-addr" "300 1000 shared" "60 1000 per-addr"; do
        set -- $run
        na=$1
        shift
        extra=()
        [ "$2" = shared ] && extra=(--shared-socket)
        J=$OUT/cap-$na-$1-$2.json
        c1=$(cputicks "${EPID[n1]}") c2=$(cputicks "${EPID[n2]}")
        s1=$(stats n1) s2=$(stats n2)
        inc cchk-c /usr/bin/time -v -o "$J.time" "$BIN/vmac-prober" udp --vip $VIP --port $UDP --addrs "$OUT/a$na" --interval-us "$1" --duration-ms 3000 "${extra[@]}" >"$J"
        d1=$(cputicks "${EPID[n1]}") d2=$(cputicks "${EPID[n2]}")
        e1=$(stats n1) e2=$(stats n2)
        wall=$(jq '.endUs / 1000000' "$J")
        kdrops=$(jq -n "$e1.udpKernelDrops - $s1.udpKernelDrops + $e2.udpKernelDrops - $s2.udpKernelDrops")
        printf '  %3s addrs x %5s us %-8s prober %s of one core (user %s ms, sys %s ms); echo n1+n2 %s%% of one core\n' \
            "$na" "$1" "$2" "$(awk -F': ' '/Percent of CPU/{print $2}' "$J.time")" "$(jq .cpuUserMs "$J")" "$(jq .cpuSysMs "$J")" \
            "$(jq -n "((($d1 - $c1) + ($d2 - $c2)) / $wall) | floor")"
        printf '           rounds %s/%s behindTicks %s skippedRounds %s maxLateUs %s avgRoundUs %s maxRoundUs %s lost %s dups %s maxGapUs %s rttMaxUs %s echoKernelDrops %s\n' \
            "$(jq .rounds "$J")" "$(jq .plannedRounds "$J")" "$(jq .behindTicks "$J")" "$(jq .skippedRounds "$J")" "$(jq .maxLateUs "$J")" \
            "$(jq .avgRoundUs "$J")" "$(jq .maxRoundUs "$J")" "$(sumj "$J" lost)" "$(sumj "$J" duplicates)" \
            "$(jq '[.addrs[].maxGapUs] | max' "$J")" "$(jq '[.addrs[].rttMaxUs] | max' "$J")" "$kdrops"
    done
fi

for n in "${!EPID[@]}"; do kill -TERM "${EPID[$n]}"; done
for n in "${!EPID[@]}"; do
    for _ in $(seq 50); do grep -q '"exit"' "$OUT/echo-$n.out" && break; sleep 0.05; done
    grep -q '"exit"' "$OUT/echo-$n.out" || fail "echo $n did not exit on SIGTERM"
done
pass "echo servers exit cleanly on SIGTERM: $(grep -h '"exit"' "$OUT"/echo-n1.out | jq -c '{name,udpIn,udpOut,udpFrozenDrops,udpKernelDrops,tcpAccepted,tcpOpen}')"
EPID=()
echo "all checks passed; artifacts in $OUT"
