#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# memctld under real systemd (issue: systemd integration). Runs as the one service of the VM booted
# by `vm-run --systemd` (tests/vm/init): systemd is PID 1, the root is an overlay of the host's, so
# this script installs memctl's Debian packages (built by scripts/package, tests/systemd/with-packages)
# with apt, then checks, printing TAP:
#   install    apt installs them; the unit is enabled and started, the memctl group made
#   start      `systemctl start memctld` returns once READY=1 is sent; the unit is active
#   delegated  memctld found its managed root from its own cgroup (no --root), moved itself into a
#              leaf, creates groups beside it, and left the cgroup systemd owns alone
#   kill       a hog in a group is killed by memctld, not by the kernel
#   reload     `systemctl reload` applies a new drop-in; a broken one fails the reload, changes nothing
#   watchdog   a wedged core thread (test hook) starves the watchdog; systemd restarts memctld, and
#              every group and registration is still there
#   upgrade    apt installs a higher version: memctld restarted, groups, registrations and the kill
#              counters still there
#   purge      apt purges them: memctld stopped, its files and /var/lib/memctl gone
set -uo pipefail

B=${MEMCTL_BUILD_ROOT:?}
D=${MEMCTL_DEB_DIR:?run by tests/systemd/with-packages}
V=${MEMCTL_DEB_VERSION:?}
U=${MEMCTL_DEB_UPGRADE:?}
CG=/sys/fs/cgroup/system.slice/memctld.service
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    shift
    for line in "$@"; do echo "# $line"; done
    echo "# journal:"
    journalctl -u memctld --no-pager -n 30 -o cat 2>&1 | sed 's/^/#   /'
}
diag() { echo "# $*"; }
prop() { systemctl show -P "$1" memctld; }
running() { [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
    local t=$(($1 * 10))
    shift
    while [ $t -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        t=$((t - 1))
    done
    return 1
}

# apt-get install of local .debs (every dependency is on the host: nothing to download), no prompts
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" 2>&1
}
debs() { # VERSION: the three packages of that version
    echo "$D/memctl_$1_amd64.deb" "$D/libmemctl0_$1_amd64.deb" "$D/libmemctl-dev_$1_amd64.deb"
}

# The packages as an operator installs them, with two local settings made first as an operator would:
# a drop-in (the test hooks on, the watchdog shorter) and a policy file (a reserve).
install_memctl() {
    # The host this VM shares its root with is a container image, whose policy-rc.d forbids starting
    # services from maintainer scripts; a real host has none (the VM's root is an overlay: the host's
    # own file stays).
    rm -f /usr/sbin/policy-rc.d
    # man-db's trigger re-indexes every manual page of the host: minutes under TCG, nothing to test
    rm -f /var/lib/man-db/auto-update
    mkdir -p /etc/systemd/system/memctld.service.d /etc/memctl/policy.d
    printf '[Service]\nExecStart=\nExecStart=/usr/sbin/memctld --test-hooks\nWatchdogSec=4s\n' \
        >/etc/systemd/system/memctld.service.d/50-test.conf
    echo '{"daemon": {"reserve": "16M"}}' >/etc/memctl/memctld.json
    local out
    # shellcheck disable=SC2046
    if ! out=$(apt_install $(debs "$V")); then
        not_ok "install: apt-get install of the $V packages failed" "$(echo "$out" | tail -n 20)"
        return 1
    fi
    local enabled group
    enabled=$(systemctl is-enabled memctld 2>&1)
    group=$(getent group memctl | cut -d: -f1)
    if [ "$(dpkg-query -W -f '${Version}' memctl)" = "$V" ] && [ "$enabled" = enabled ] &&
        [ "$(prop ActiveState)" = active ] && [ "$group" = memctl ] && [ -x /usr/sbin/memctld ] &&
        [ -f /usr/share/dbus-1/system.d/org.memctl.Manager1.conf ] && [ -f /usr/include/memctl/client.h ]; then
        ok "install: apt installed memctl $V: memctld enabled and started, group memctl made (sysusers.d)"
    else
        not_ok "install: version $(dpkg-query -W -f '${Version}' memctl), is-enabled '$enabled', $(prop ActiveState), group '$group'"
    fi
}

check_start() {
    local out
    if ! out=$(timeout 60 systemctl start memctld 2>&1); then
        not_ok "start: systemctl start memctld" "$out"
        return 1
    fi
    local state status
    state=$(prop ActiveState)/$(prop SubState)
    status=$(prop StatusText)
    if [ "$state" = active/running ] && [ "$status" = "managing groups" ]; then
        ok "start: active/running after READY=1 (status '$status')"
    else
        not_ok "start: state $state, status '$status'"
    fi
}

check_delegated() {
    local pid root mmin
    pid=$(prop MainPID)
    root=$(memctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])')
    mmin=$(cat $CG/memory.min)
    if [ "$root" != "$CG" ]; then
        not_ok "delegated: managed root is '$root', not $CG"
        return
    fi
    if ! grep -qx "$pid" $CG/memctld/cgroup.procs; then
        not_ok "delegated: memctld ($pid) is not in $CG/memctld" "$(cat /proc/$pid/cgroup)"
        return
    fi
    if ! memctl create web --limit=48M >/dev/null || [ "$(cat $CG/web/memory.max)" != 50331648 ]; then
        not_ok "delegated: group web not created under $CG"
        return
    fi
    # MemoryMin=64M is systemd's to set on the unit's cgroup; memctld writes only below it.
    if [ "$mmin" != 67108864 ] || [ "$(cat $CG/memory.min)" != 67108864 ]; then
        not_ok "delegated: the unit's memory.min changed: $mmin, now $(cat $CG/memory.min)"
        return
    fi
    ok "delegated: root $CG from /proc/self/cgroup, memctld in its leaf, web beside it, unit's memory.min untouched"
}

check_kill() {
    local before st rec
    before=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
    # in a group: bash reports the SIGKILL of a foreground job ("Killed") on stderr, which is TAP
    { timeout 60 "$B/tests/lib/memhog" --cgroup $CG/web --total 200M --step 1M >/dev/null 2>&1; } 2>/dev/null
    st=$?
    rec=$(memctl kills --json | python3 -c '
import json,sys
ks=[k for k in json.load(sys.stdin) if k.get("group")=="web"]
print(ks[-1]["reason"] if ks else "")')
    local kernel
    kernel=$(($(awk '/^oom_kill /{print $2}' /proc/vmstat) - before))
    if [ "$st" = 137 ] && [ -n "$rec" ] && [ "$kernel" = 0 ]; then
        ok "kill: the hog in web was killed by memctld ($rec), kernel OOM kills 0"
    else
        not_ok "kill: memhog status $st, memctld's record '$rec', kernel OOM kills $kernel"
    fi
}

check_reload() {
    cat >/etc/memctl/policy.d/50-batch.json <<'EOF'
{"groups": {"batch": {"limit": "32M", "priority": 10}}}
EOF
    local out
    if ! out=$(timeout 60 systemctl reload memctld 2>&1); then
        not_ok "reload: systemctl reload failed" "$out"
        return
    fi
    if [ "$(cat $CG/batch/memory.max 2>/dev/null)" != 33554432 ]; then
        not_ok "reload: batch not created with memory.max 32M"
        return
    fi
    local ino
    ino=$(stat -c %i $CG/batch)
    echo '{"groups": {"batch": {"limit": "32M", "priority": 10, "colour": "red"}}}' >/etc/memctl/policy.d/60-broken.json
    if out=$(timeout 60 systemctl reload memctld 2>&1); then
        not_ok "reload: a broken drop-in did not fail the reload"
        return
    fi
    rm -f /etc/memctl/policy.d/60-broken.json
    local why
    why=$(journalctl -u memctld --no-pager -o cat | grep -c 'colour' || true)
    if [ "$(prop ActiveState)" = active ] && [ "$(stat -c %i $CG/batch)" = "$ino" ] &&
        [ "$(cat $CG/batch/memory.max)" = 33554432 ] && [ "$why" -gt 0 ]; then
        ok "reload: drop-in applied; a broken one failed the reload (named in the log), policy kept"
    else
        not_ok "reload: after the broken drop-in: state $(prop ActiveState), batch max $(cat $CG/batch/memory.max), log mentions it $why time(s)"
    fi
}

check_watchdog() {
    local pid restarts out
    if ! out=$(memctl reserve register web 4M 2>&1); then
        not_ok "watchdog: registering web as critical" "$out" "$(memctl show web 2>&1 | tr '\n' ' ')" \
            "$(memctl reserve 2>&1 | tr '\n' ' ')" "leaf min $(cat $CG/memctld/memory.min), unit min $(cat $CG/memory.min)"
        return
    fi
    pid=$(prop MainPID)
    restarts=$(prop NRestarts)
    kill -USR1 "$pid"
    restarted() { [ "$(prop NRestarts)" -gt "$restarts" ]; }
    if ! wait_for 60 restarted; then
        not_ok "watchdog: no restart 60 s after wedging the core (NRestarts $(prop NRestarts))"
        return
    fi
    if ! wait_for 60 running; then
        not_ok "watchdog: not active again after the restart: $(prop ActiveState)/$(prop SubState)"
        return
    fi

    local result groups crit
    result=$(journalctl -u memctld --no-pager -o cat | grep -c -i 'watchdog timeout' || true)
    groups=$(memctl list --json | python3 -c 'import json,sys; print(" ".join(sorted(g["name"] for g in json.load(sys.stdin))))')
    crit=$(memctl reserve --json | python3 -c 'import json,sys; print(" ".join(c["group"] for c in json.load(sys.stdin)["clients"]))')
    if [ "$(prop MainPID)" != "$pid" ] && [ "$result" -gt 0 ] && [ "$groups" = "batch web" ] && [ "$crit" = web ]; then
        ok "watchdog: wedged core -> watchdog timeout -> restarted; groups '$groups', critical '$crit' still there"
    else
        not_ok "watchdog: pid $pid -> $(prop MainPID), timeouts logged $result, groups '$groups', critical '$crit'"
    fi
}

# An upgrade to the higher version: memctld restarted by the package, its groups, registrations and
# kill counters still there (restored from its state file: on systemd 252 a restart stops the processes in the
# groups too, docs/PACKAGING.md).
kills() { memctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kills"])'; }

check_upgrade() {
    local out pid before
    pid=$(prop MainPID)
    before=$(kills)
    # shellcheck disable=SC2046
    if ! out=$(apt_install $(debs "$U")); then
        not_ok "upgrade: apt-get install of the $U packages failed" "$(echo "$out" | tail -n 20)"
        return
    fi
    local up=no groups crit
    wait_for 30 running && up=yes
    groups=$(memctl list --json | python3 -c 'import json,sys; print(" ".join(sorted(g["name"] for g in json.load(sys.stdin))))')
    crit=$(memctl reserve --json | python3 -c 'import json,sys; print(" ".join(c["group"] for c in json.load(sys.stdin)["clients"]))')
    local after
    after=$(kills)
    if [ "$(dpkg-query -W -f '${Version}' memctl)" = "$U" ] && [ "$(prop MainPID)" != "$pid" ] &&
        [ "$up" = yes ] && [ "$groups" = "batch web" ] && [ "$crit" = web ] && [ "$before" -ge 1 ] &&
        [ "$after" = "$before" ]; then
        ok "upgrade: $V -> $U restarted memctld ($pid -> $(prop MainPID)); groups '$groups', critical '$crit' and $after kill(s) counted still there"
    else
        not_ok "upgrade: version $(dpkg-query -W -f '${Version}' memctl), pid $pid -> $(prop MainPID), running $up, groups '$groups', critical '$crit', kills $before -> $after"
    fi
}

# Purge: memctld stopped, its files and its state directory gone.
check_purge() {
    local had_state=no out
    [ -d /var/lib/memctl ] && had_state=yes
    if ! out=$(DEBIAN_FRONTEND=noninteractive apt-get purge -y -q memctl libmemctl0 libmemctl-dev 2>&1); then
        not_ok "purge: apt-get purge failed" "$(echo "$out" | tail -n 20)"
        return
    fi
    local left=""
    for f in /usr/sbin/memctld /usr/bin/memctl /lib/systemd/system/memctld.service /var/lib/memctl \
        /usr/share/dbus-1/system.d/org.memctl.Manager1.conf /usr/include/memctl; do
        [ -e "$f" ] && left="$left $f"
    done
    if [ "$had_state" = yes ] && [ -z "$left" ] && [ "$(prop ActiveState)" != active ] &&
        ! dpkg-query -W memctl >/dev/null 2>&1; then
        ok "purge: memctld stopped; its files and /var/lib/memctl gone"
    else
        not_ok "purge: state dir before: $had_state; left:$left; memctld $(prop ActiveState)"
    fi
}

echo "1..8"
diag "systemd $(systemctl --version | head -1 | cut -d' ' -f2), kernel $(uname -r), $(cat /proc/self/cgroup)"
if install_memctl && check_start; then
    check_delegated
    check_kill
    check_reload
    check_watchdog
    check_upgrade
    check_purge
else
    for t in delegated kill reload watchdog upgrade purge; do not_ok "$t: memctld did not start"; done
fi
systemctl stop memctld 2>/dev/null
exit $((failed > 0))
