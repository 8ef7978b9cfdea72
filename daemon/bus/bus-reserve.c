/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.memctl.Manager1's reserve methods: critical registrations and leases (daemon/reserve/critical.c). */
#include <errno.h>
#include <gio/gunixfdlist.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/bus/internal.h"
#include "daemon/config.h"
#include "daemon/reserve/critical.h"
#include "daemon/error.h"
#include "basic/fd-util.h"
#include "kernel/proc.h"
#include "basic/size.h"
#include "kernel/pidfd.h"

static gboolean reserve_ready(MemctlBus *b, GDBusMethodInvocation *inv)
{
    if (b->m->critical)
        return TRUE;
    g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                          "the reserve is not set up");
    return FALSE;
}

/* Registers (RegisterCritical, ClaimCritical: `how`) and answers the call; `what` names the client. */
static void register_and_reply(MemctlBus *b, GDBusMethodInvocation *inv, const char *group, int32_t pid,
                               uint64_t bytes, const char *how, const char *what)
{
    g_autoptr(GError) err = NULL;
    if (memctl_critical_register(b->m->critical, group, pid, bytes, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    if (b->m->config)
        memctl_config_changed(b->m->config);
    char sz[16];
    g_message("critical client %s by %s: %s with %s of the reserve", how,
              g_dbus_method_invocation_get_sender(inv), what, memctl_size_format(bytes, sz));
    memctl_bus_groups_changed(b);
    g_dbus_method_invocation_return_value(inv, NULL);
}

void memctl_bus_m_register_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *group;
    guint32 pid;
    guint64 bytes;
    g_variant_get(params, "(&sut)", &group, &pid, &bytes);
    if (!reserve_ready(b, inv))
        return;
    if (pid > G_MAXINT32) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                              "pid: %u is not a pid", pid);
        return;
    }
    g_autofree char *what = *group ? g_strdup_printf("group %s", group) : g_strdup_printf("pid %u", pid);
    register_and_reply(b, inv, group, (int32_t)pid, bytes, "registered", what);
}

void memctl_bus_m_claim_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *group;
    guint64 bytes;
    g_variant_get(params, "(&st)", &group, &bytes);
    if (!reserve_ready(b, inv))
        return;
    MemctlGroup *grp = memctl_groups_lookup(b->m->groups, group);
    if (!*group || !grp) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_NO_SUCH_GROUP, "no group '%s'",
                                              group);
        return;
    }
    if (!b->m->config ||
        !memctl_policy_claim_allowed(memctl_config_policy(b->m->config), grp->name, grp->slice)) {
        g_message("refused ClaimCritical of %s from %s: not in daemon.critical_claims", group,
                  g_dbus_method_invocation_get_sender(inv));
        g_dbus_method_invocation_return_error(
                inv, MEMCTL_ERROR, MEMCTL_ERROR_ACCESS_DENIED,
                "group '%s' may not claim critical status: neither its name nor its slice matches the "
                "policy's daemon.critical_claims",
                group);
        return;
    }
    g_autofree char *what = g_strdup_printf("group %s (daemon.critical_claims)", grp->name);
    register_and_reply(b, inv, grp->name, 0, bytes, "claimed", what);
}

void memctl_bus_m_unregister_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    const char *group;
    guint32 pid;
    g_variant_get(params, "(&su)", &group, &pid);
    if (!reserve_ready(b, inv))
        return;
    g_autoptr(GError) err = NULL;
    if (pid > G_MAXINT32 || memctl_critical_unregister(b->m->critical, group, (int32_t)pid, &err) < 0) {
        if (err)
            g_dbus_method_invocation_return_gerror(inv, err);
        else
            g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_INVALID_ARGUMENT,
                                                  "pid: %u is not a pid", pid);
        return;
    }
    if (b->m->config)
        memctl_config_changed(b->m->config);
    g_message("critical client unregistered by %s: %s%s%.0u", g_dbus_method_invocation_get_sender(inv),
              *group ? "group " : "pid ", group, *group ? 0u : pid);
    memctl_bus_groups_changed(b);
    g_dbus_method_invocation_return_value(inv, NULL);
}

/*
 * AcquireReserve names no client: the caller is the process behind its bus connection. The bus
 * daemon is asked for the connection's credentials. Where it gives ProcessFD (a pidfd it took from
 * SO_PEERPIDFD when the caller connected: dbus-broker 34, dbus 1.16, Linux 6.5), that pidfd pins the
 * very process. Otherwise it gives the pid it saw then: memctld opens a pidfd on it, checks that the
 * process behind the pidfd runs as the connection's uid, and asks the bus again that the connection
 * is still there with that pid, so a caller that exited (its connection gone) cannot leave its pid to
 * another process; docs/SECURITY.md says what remains.
 */
typedef struct {
    MemctlBus *b;
    GDBusMethodInvocation *inv;
    guint64 bytes;
    int32_t pid;
    uint32_t uid;
    int pidfd;
} Acquire;

static void acquire_free(Acquire *a)
{
    g_object_unref(a->inv);
    memctl_closep(&a->pidfd);
    g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Acquire, acquire_free)

static void acquire_deny(Acquire *a, const char *why)
{
    g_dbus_method_invocation_return_error(a->inv, MEMCTL_ERROR, MEMCTL_ERROR_ACCESS_DENIED,
                                          "the caller (pid %d) %s", (int)a->pid, why);
}

/* The caller is known: its registration's lease, if it has one. */
static void acquire_lease(Acquire *a)
{
    MemctlBus *b = a->b;
    GDBusMethodInvocation *inv = a->inv;
    MemctlRegistration *reg = memctl_critical_find_for_pid(b->m->critical, a->pid);
    uint64_t start;
    /* the group was read by pid: it is the caller's only if the pidfd's process still runs */
    if (!reg || memctl_critical_process_identity(b->m->critical, a->pid, a->pidfd, &start, NULL) < 0) {
        acquire_deny(a, "is not a registered critical client");
        return;
    }
    int fd = -1;
    uint64_t size = 0;
    uint32_t lease = 0;
    g_autoptr(GError) err = NULL;
    const char *sender = g_dbus_method_invocation_get_sender(inv);
    if (memctl_critical_acquire(b->m->critical, reg, b->conn, sender, a->bytes, &fd, &size, &lease, &err) <
        0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    _cleanup_close_ int owned = fd;
    g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
    gint idx = g_unix_fd_list_append(fds, owned, &err); /* dups it */
    if (idx < 0) {
        (void)memctl_critical_release(b->m->critical, sender, lease, NULL);
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    g_message("lease %u of %" G_GUINT64_FORMAT " bytes to %s (pid %d)", lease, size, sender, (int)a->pid);
    g_dbus_method_invocation_return_value_with_unix_fd_list(inv, g_variant_new("(htu)", idx, size, lease),
                                                            fds);
}

/* The bus confirmed, after the pidfd was opened, that the connection is still the same pid's. */
static void on_caller_again(GObject *src, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(Acquire) a = user_data;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, NULL);
    guint32 pid = 0;
    if (reply)
        g_variant_get(reply, "(u)", &pid);
    if ((int32_t)pid != a->pid) {
        acquire_deny(a, "left the bus while it was being identified");
        return;
    }
    acquire_lease(a);
}

static void on_caller_credentials(GObject *src, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(Acquire) a = user_data;
    MemctlBus *b = a->b;
    g_autoptr(GUnixFDList) fds = NULL;
    g_autoptr(GVariant) reply =
            g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(src), &fds, res, NULL);
    g_autoptr(GVariant) dict = reply ? g_variant_get_child_value(reply, 0) : NULL;
    guint32 pid = 0;
    gint32 fd_index = -1;
    if (!dict || !g_variant_lookup(dict, "UnixUserID", "u", &a->uid)) {
        acquire_deny(a, "has no credentials the bus daemon would give");
        return;
    }
    bool pinned = fds && g_variant_lookup(dict, "ProcessFD", "h", &fd_index) && fd_index >= 0;
    if (pinned) {
        a->pidfd = g_unix_fd_list_get(fds, fd_index, NULL);
        g_autofree char *info_path = g_strdup_printf("/proc/self/fdinfo/%d", a->pidfd);
        g_autofree char *info = NULL;
        if (a->pidfd < 0 || !g_file_get_contents(info_path, &info, NULL, NULL) ||
            memctl_proc_fdinfo_pid(info, &a->pid) < 0) {
            acquire_deny(a, "is gone");
            return;
        }
    } else {
        if (!g_variant_lookup(dict, "ProcessID", "u", &pid) || pid == 0 || pid > G_MAXINT32) {
            acquire_deny(a, "has no process the bus daemon would name");
            return;
        }
        a->pid = (int32_t)pid;
        a->pidfd = (int)syscall(SYS_pidfd_open, a->pid, 0);
    }
    uint64_t start;
    uint32_t uid = 0;
    if (a->pidfd < 0 ||
        memctl_critical_process_identity(b->m->critical, a->pid, a->pidfd, &start, &uid) < 0) {
        acquire_deny(a, "is gone");
        return;
    }
    if (uid != a->uid) {
        acquire_deny(a, "is not the process behind the connection (another uid runs that pid now)");
        return;
    }
    if (pinned) {
        acquire_lease(a);
        return;
    }
    Acquire *again = g_steal_pointer(&a);
    g_dbus_connection_call(b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixProcessID",
                           g_variant_new("(s)", g_dbus_method_invocation_get_sender(again->inv)),
                           G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_again, again);
}

void memctl_bus_m_acquire_reserve(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    guint64 bytes;
    g_variant_get(params, "(t)", &bytes);
    if (!reserve_ready(b, inv))
        return;
    const char *sender = g_dbus_method_invocation_get_sender(inv);
    if (!sender) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_ACCESS_DENIED,
                                              "calls must come through the bus");
        return;
    }
    Acquire *a = g_new0(Acquire, 1);
    a->b = b;
    a->inv = g_object_ref(inv);
    a->bytes = bytes;
    a->pidfd = -1;
    g_dbus_connection_call_with_unix_fd_list(
            b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "GetConnectionCredentials", g_variant_new("(s)", sender), G_VARIANT_TYPE("(a{sv})"),
            G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, on_caller_credentials, a);
}

void memctl_bus_m_release_reserve(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    guint32 lease;
    g_variant_get(params, "(u)", &lease);
    if (!reserve_ready(b, inv))
        return;
    g_autoptr(GError) err = NULL;
    if (memctl_critical_release(b->m->critical, g_dbus_method_invocation_get_sender(inv), lease, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    g_dbus_method_invocation_return_value(inv, NULL);
}

void memctl_bus_m_list_critical(MemctlBus *b, GDBusMethodInvocation *inv, GVariant *params)
{
    if (!reserve_ready(b, inv))
        return;
    GVariantBuilder a;
    g_variant_builder_init(&a, G_VARIANT_TYPE("a(suttu)"));
    GPtrArray *regs = memctl_critical_list(b->m->critical);
    for (guint i = 0; i < regs->len; i++) {
        const MemctlRegistration *reg = regs->pdata[i];
        g_variant_builder_add(&a, "(suttu)", reg->group ? reg->group : "", (guint32)reg->pid, reg->size,
                              reg->lease ? reg->size : 0, reg->lease);
    }
    g_dbus_method_invocation_return_value(inv, g_variant_new("(a(suttu))", &a));
}
