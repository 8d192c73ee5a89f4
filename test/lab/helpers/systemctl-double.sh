#!/bin/sh
# A test double of `systemctl` for labs where systemd is not PID 1 (this machine: it is not).
# Supports what vmac's systemd driver calls: start <unit>, stop <unit>, show -p ActiveState,SubState <unit>.
# A unit is a file $STATE/<unit>.exec holding the command line to run (its "ExecStart");
# the double runs it in the background, keeps its pid in $STATE/<unit>.pid, and reports
# active/running while that pid lives, failed/failed if it died without a stop, inactive/dead otherwise.
STATE="${VMAC_SYSTEMCTL_DOUBLE_STATE:-/run/vmac-systemctl-double}"
cmd="$1"; shift
case "$cmd" in
  show) while [ "$1" = "-p" ]; do shift 2; done; unit="$1" ;;
  *) unit="$1" ;;
esac
[ -f "$STATE/$unit.exec" ] || { echo "Unit $unit could not be found." >&2; exit 5; }
pidfile="$STATE/$unit.pid"
alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$cmd" in
  start)
    alive && exit 0
    rm -f "$STATE/$unit.stopped"
    nohup sh -c "exec $(cat "$STATE/$unit.exec")" >"$STATE/$unit.log" 2>&1 &
    echo $! > "$pidfile"
    sleep 0.05
    alive || { echo "Job for $unit failed." >&2; exit 1; } ;;
  stop)
    if alive; then kill "$(cat "$pidfile")"; fi
    rm -f "$pidfile"; touch "$STATE/$unit.stopped" ;;
  show)
    if alive; then echo "ActiveState=active"; echo "SubState=running"
    elif [ -f "$pidfile" ]; then echo "ActiveState=failed"; echo "SubState=failed"
    else echo "ActiveState=inactive"; echo "SubState=dead"; fi ;;
  is-active)
    if alive; then echo active; exit 0; else echo inactive; exit 3; fi ;;
  *) echo "systemctl double: unsupported command $cmd" >&2; exit 1 ;;
esac
