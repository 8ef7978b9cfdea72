/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.memctl.Manager1's reserve methods: critical registrations and leases (daemon/critical.c). */
#include <errno.h>
#include <gio/gunixfdlist.h>
#include <string.h>

#include "daemon/bus-internal.h"
#include "daemon/config.h"
#include "daemon/critical.h"
#include "daemon/error.h"
#include "daemon/fd-util.h"
#include "policy/size.h"

static gboolean reserve_ready(MemctlBus *b, GDBusMethodInvocation *inv)
{
    if (b->m->critical)
        return TRUE;
    g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_FAILED,
                                          "the reserve is not set up");
    return FALSE;
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
    g_autoptr(GError) err = NULL;
    if (memctl_critical_register(b->m->critical, group, (int32_t)pid, bytes, &err) < 0) {
        g_dbus_method_invocation_return_gerror(inv, err);
        return;
    }
    if (b->m->config)
        memctl_config_changed(b->m->config);
    char sz[16];
    g_message("critical client registered by %s: %s%s%.0u with %s of the reserve",
              g_dbus_method_invocation_get_sender(inv), *group ? "group " : "pid ", group, *group ? 0u : pid,
              memctl_size_format(bytes, sz));
    memctl_bus_groups_changed(b);
    g_dbus_method_invocation_return_value(inv, NULL);
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

typedef struct {
    MemctlBus *b;
    GDBusMethodInvocation *inv;
    guint64 bytes;
} Acquire;

static void on_caller_pid(GObject *src, GAsyncResult *res, gpointer user_data)
{
    g_autofree Acquire *a = user_data;
    g_autoptr(GDBusMethodInvocation) inv = a->inv;
    MemctlBus *b = a->b;
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
    guint32 pid = 0;
    if (reply)
        g_variant_get(reply, "(u)", &pid);
    MemctlRegistration *reg = pid ? memctl_critical_find_for_pid(b->m->critical, (int32_t)pid) : NULL;
    if (!reg) {
        g_dbus_method_invocation_return_error(inv, MEMCTL_ERROR, MEMCTL_ERROR_ACCESS_DENIED,
                                              "the caller (pid %u) is not a registered critical client", pid);
        return;
    }
    int fd = -1;
    uint64_t size = 0;
    uint32_t lease = 0;
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
    g_message("lease %u of %" G_GUINT64_FORMAT " bytes to %s (pid %u)", lease, size, sender, pid);
    g_dbus_method_invocation_return_value_with_unix_fd_list(inv, g_variant_new("(htu)", idx, size, lease),
                                                            fds);
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
    g_dbus_connection_call(b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixProcessID", g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_pid, a);
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
