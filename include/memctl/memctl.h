/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * memctl's public constants: the D-Bus names and paths of org.memctl.Manager1, its error names, and
 * the limits that every client (CLI, libmemctl, OCI hook, runtimes) shares with the daemon.
 */

#define MEMCTL_BUS_NAME "org.memctl.Manager1"
#define MEMCTL_MANAGER_PATH "/org/memctl/Manager1"
#define MEMCTL_MANAGER_INTERFACE "org.memctl.Manager1"
#define MEMCTL_GROUP_PATH_PREFIX "/org/memctl/Manager1/group/"
#define MEMCTL_GROUP_INTERFACE "org.memctl.Group1"

#define MEMCTL_DBUS_ERROR_FAILED "org.memctl.Error.Failed"
#define MEMCTL_DBUS_ERROR_NO_SUCH_GROUP "org.memctl.Error.NoSuchGroup"
#define MEMCTL_DBUS_ERROR_INVALID_ARGUMENT "org.memctl.Error.InvalidArgument"
#define MEMCTL_DBUS_ERROR_ACCESS_DENIED "org.memctl.Error.AccessDenied"
#define MEMCTL_DBUS_ERROR_BUSY "org.memctl.Error.Busy"
#define MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED "org.memctl.Error.ReserveExhausted"
#define MEMCTL_DBUS_ERROR_INVALID_POLICY "org.memctl.Error.InvalidPolicy"

/* Default managed root, below the cgroup2 mount, when not running under systemd delegation. */
#define MEMCTL_DEFAULT_ROOT "/sys/fs/cgroup/memctl.slice"
/* The /metrics endpoint unless configured otherwise: loopback only. 9100-9999, the Prometheus
 * exporters' range, is exhausted; 10735 lies above the allocations made since (docs/METRICS.md). */
#define MEMCTL_METRICS_DEFAULT_ADDRESS "127.0.0.1:10735"
/* The leaf memctld moves itself into (cgroup v2 has no processes in inner nodes). */
#define MEMCTL_SELF_LEAF "memctld"
/* The leaf beside it where memctld runs groups' pre-kill executables: never in a group (one of them
 * is frozen), never in memctld's own leaf (its memory.min protects memctld and the reserve). */
#define MEMCTL_HOOKS_LEAF "memctld-hooks"

/* Group names: path components of [A-Za-z0-9_.:@-], no "." or "..", joined by '/'. */
#define MEMCTL_GROUP_NAME_MAX 200
#define MEMCTL_GROUP_DEPTH_MAX 8
/* A group's systemd-style display name ("machines.slice/ctr-1.scope"): metadata only. */
#define MEMCTL_SLICE_NAME_MAX 255
