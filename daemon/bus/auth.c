/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/bus/auth.h"

#include <grp.h>
#include <pwd.h>

#include "daemon/error.h"

typedef struct {
    MemctlAuthConfig cfg;
    GDBusConnection *conn;
    char *sender;
    char *action; /* org.memctl.<verb> */
    guint32 uid;
    gboolean interactive;
} Check;

static void check_free(Check *c)
{
    g_clear_object(&c->conn);
    g_free(c->sender);
    g_free(c->action);
    g_free(c);
}

static void deny(GTask *task, const char *why)
{
    Check *c = g_task_get_task_data(task);
    g_task_return_new_error(task, MEMCTL_ERROR, MEMCTL_ERROR_ACCESS_DENIED, "uid %u may not call %s: %s",
                            c->uid, c->action, why);
    g_object_unref(task);
}

static void allow(GTask *task)
{
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
}

/* The user's groups from NSS, when the bus daemon did not give the connection's own. */
static gboolean user_in_group(guint32 uid, gid_t gid)
{
    long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
    g_autofree char *buf = g_malloc(sz > 0 ? (size_t)sz : 16384);
    struct passwd pw, *res = NULL;
    if (getpwuid_r(uid, &pw, buf, sz > 0 ? (size_t)sz : 16384, &res) != 0 || !res)
        return FALSE;
    if (pw.pw_gid == gid)
        return TRUE;
    int n = 64;
    g_autofree gid_t *groups = g_new(gid_t, n);
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0) {
        groups = g_renew(gid_t, groups, n);
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
            return FALSE;
    }
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return TRUE;
    return FALSE;
}

static void on_polkit(GObject *src, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
    if (!reply) {
        g_autofree char *why = g_strdup_printf("polkit did not answer (%s)", err->message);
        deny(task, why);
        return;
    }
    gboolean authorized = FALSE, challenge = FALSE;
    g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
    if (authorized)
        allow(task);
    else
        deny(task, challenge ? "polkit needs an interactive authentication" : "polkit refused");
}

static void ask_polkit(GTask *task)
{
    Check *c = g_task_get_task_data(task);
    GVariantBuilder subject;
    g_variant_builder_init(&subject, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&subject, "{sv}", "name", g_variant_new_string(c->sender));
    g_dbus_connection_call(c->conn, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                           g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject, c->action, NULL,
                                         c->interactive ? 1u : 0u, ""),
                           G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL, on_polkit,
                           task);
}

static void on_polkit_owner(GObject *src, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, NULL);
    gboolean has = FALSE;
    if (reply)
        g_variant_get(reply, "(b)", &has);
    if (has)
        ask_polkit(task);
    else
        deny(task, "it is neither root nor in the admin group (and polkitd does not run)");
}

static void on_credentials(GObject *src, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    Check *c = g_task_get_task_data(task);
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
    g_autoptr(GVariant) dict = reply ? g_variant_get_child_value(reply, 0) : NULL;
    if (!dict || !g_variant_lookup(dict, "UnixUserID", "u", &c->uid)) {
        c->uid = (guint32)-1;
        deny(task, "the bus daemon gave no credentials for the caller");
        return;
    }
    if (c->uid == 0) {
        allow(task);
        return;
    }
    if (c->cfg.admin_gid != (gid_t)-1) {
        g_autoptr(GVariant) gids = g_variant_lookup_value(dict, "UnixGroupIDs", G_VARIANT_TYPE("au"));
        gboolean member = FALSE;
        if (gids) {
            gsize n;
            const guint32 *g = g_variant_get_fixed_array(gids, &n, sizeof(guint32));
            for (gsize i = 0; i < n && !member; i++)
                member = g[i] == (guint32)c->cfg.admin_gid;
        } else {
            member = user_in_group(c->uid, c->cfg.admin_gid);
        }
        if (member) {
            allow(task);
            return;
        }
    }
    if (!c->cfg.polkit) {
        deny(task, "it is neither root nor in the admin group");
        return;
    }
    g_dbus_connection_call(c->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "NameHasOwner", g_variant_new("(s)", "org.freedesktop.PolicyKit1"),
                           G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_polkit_owner, task);
}

void memctl_auth_check_async(const MemctlAuthConfig *cfg, GDBusMethodInvocation *invocation,
                             const char *action, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, NULL, callback, user_data);
    Check *c = g_new0(Check, 1);
    c->cfg = *cfg;
    c->conn = g_object_ref(g_dbus_method_invocation_get_connection(invocation));
    c->sender = g_strdup(g_dbus_method_invocation_get_sender(invocation));
    c->action = g_strconcat("org.memctl.", action, NULL);
    c->uid = (guint32)-1;
    GDBusMessage *msg = g_dbus_method_invocation_get_message(invocation);
    c->interactive =
            (g_dbus_message_get_flags(msg) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
    g_task_set_task_data(task, c, (GDestroyNotify)check_free);
    if (!c->sender) { /* a peer-to-peer connection has no sender: not supported */
        deny(task, "calls must come through the bus");
        return;
    }
    g_dbus_connection_call(c->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionCredentials", g_variant_new("(s)", c->sender),
                           G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_credentials, task);
}

gboolean memctl_auth_check_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}
