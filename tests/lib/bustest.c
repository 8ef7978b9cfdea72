/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/bustest.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"

static const char config_head[] =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
        " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
        "<busconfig>\n"
        "  <type>system</type>\n"
        "  <auth>EXTERNAL</auth>\n"
        "  <listen>unix:path=%s/bus</listen>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <deny own=\"*\"/>\n"
        "    <deny send_type=\"method_call\"/>\n"
        "    <allow send_type=\"signal\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
        "    <allow receive_type=\"method_call\"/>\n"
        "    <allow receive_type=\"method_return\"/>\n"
        "    <allow receive_type=\"error\"/>\n"
        "    <allow receive_type=\"signal\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
        "  </policy>\n"
        "  <include>%s/dbus/org.memctl.Manager1.conf</include>\n"
        "%s"
        "</busconfig>\n";

void bustest_start(BusTest *b)
{
    bustest_start_with(b, NULL);
}

void bustest_start_with(BusTest *b, const char *const *includes)
{
    memset(b, 0, sizeof(*b));
    g_autoptr(GError) err = NULL;
    b->dir = g_dir_make_tmp("memctl-bus-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_no_errno(chmod(b->dir, 0755)); /* unprivileged callers connect too */
    const char *src = g_getenv("MEMCTL_SOURCE_ROOT");
    g_assert_nonnull(src);
    g_autofree char *conf = g_build_filename(b->dir, "bus.conf", NULL);
    g_autoptr(GString) more = g_string_new(NULL);
    for (const char *const *i = includes; i && *i; i++)
        g_string_append_printf(more, "  <include>%s</include>\n", *i);
    g_autofree char *text = g_strdup_printf(config_head, b->dir, src, more->str);
    g_assert_true(g_file_set_contents(conf, text, -1, &err));
    g_autofree char *conf_arg = g_strdup_printf("--config-file=%s", conf);
    const char *argv[] = {"dbus-daemon", conf_arg, "--nofork", "--print-address=1", NULL};
    int out_fd = -1;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           &b->pid, NULL, &out_fd, NULL, &err));
    g_assert_no_error(err);
    FILE *f = fdopen(out_fd, "r");
    char line[512] = "";
    g_assert_nonnull(fgets(line, sizeof(line), f));
    fclose(f);
    b->address = g_strdup(g_strstrip(line));
    g_assert_true(g_str_has_prefix(b->address, "unix:"));
    b->conn = g_dbus_connection_new_for_address_sync(b->address,
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &err);
    g_assert_no_error(err);
}

void bustest_stop(BusTest *b)
{
    g_clear_object(&b->conn);
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        int status;
        waitpid(b->pid, &status, 0);
        g_spawn_close_pid(b->pid);
    }
    g_autofree char *conf = g_build_filename(b->dir, "bus.conf", NULL);
    g_autofree char *sock = g_build_filename(b->dir, "bus", NULL);
    (void)unlink(conf);
    (void)unlink(sock);
    (void)rmdir(b->dir);
    g_free(b->dir);
    g_free(b->address);
}

void bustest_wait_name(BusTest *b, const char *name, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                "NameHasOwner", g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
                NULL, NULL);
        gboolean has = FALSE;
        if (r)
            g_variant_get(r, "(b)", &has);
        if (has)
            return;
        g_usleep(20000);
    }
    g_error("%s has no owner on the test bus after %d ms", name, timeout_ms);
}

int bustest_cli(BusTest *b, const char *const *args, char **ret_out, char **ret_err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, daemontest_binary("client/memctl"));
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, g_strdup(*a));
    g_ptr_array_add(argv, NULL);
    g_autofree char *out = NULL, *err_text = NULL;
    int status = 0;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "DBUS_SYSTEM_BUS_ADDRESS", b->address, TRUE);
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err_text,
                               &status, &err));
    g_assert_no_error(err);
    g_assert_true(WIFEXITED(status));
    if (ret_out)
        *ret_out = g_steal_pointer(&out);
    if (ret_err)
        *ret_err = g_steal_pointer(&err_text);
    return WEXITSTATUS(status);
}

GVariant *bustest_call(BusTest *b, const char *method, GVariant *params, GError **error)
{
    return g_dbus_connection_call_sync(b->conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH,
                                       MEMCTL_MANAGER_INTERFACE, method, params, NULL, G_DBUS_CALL_FLAGS_NONE,
                                       30000, NULL, error);
}

char *apitest_root_path(const char *prefix)
{
    cgtest_require_cgroup2();
    return g_strdup_printf("%s/%s.%d", cgtest_mount(), prefix, (int)getpid());
}

void apitest_start(ApiTest *t, const char *prefix, const char *const *extra_args)
{
    g_autofree char *root = apitest_root_path(prefix);
    cgtest_remove_tree(root);
    apitest_start_root(t, root, extra_args);
}

void apitest_start_root(ApiTest *t, const char *root, const char *const *extra_args)
{
    apitest_bus_up(t, root);
    apitest_daemon_up(t, extra_args);
}

void apitest_bus_up(ApiTest *t, const char *root)
{
    memset(t, 0, sizeof(*t));
    cgtest_require_cgroup2();
    t->root = g_strdup(root);
    bustest_start(&t->bus);
}

void apitest_daemon_up(ApiTest *t, const char *const *extra_args)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup_printf("--bus-address=%s", t->bus.address));
    for (const char *const *a = extra_args; a && *a; a++)
        g_ptr_array_add(args, g_strdup(*a));
    g_ptr_array_add(args, NULL);
    daemontest_start(&t->d, t->root, (const char *const *)args->pdata);
    bustest_wait_name(&t->bus, MEMCTL_BUS_NAME, 5000);
}

void apitest_stop(ApiTest *t)
{
    daemontest_stop(&t->d);
    bustest_stop(&t->bus);
    cgtest_remove_tree(t->root);
    g_free(t->root);
}

bool bustest_wait_flag(const bool *flag, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!*flag && g_get_monotonic_time() < deadline)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    return *flag;
}

static char *cli_run(ApiTest *t, int want, const char *const *args, bool want_err)
{
    char *out = NULL, *err = NULL;
    int rc = bustest_cli(&t->bus, args, &out, &err);
    if (rc != want)
        g_error("memctl %s ...: exit %d, expected %d; stderr: %s", args[0], rc, want, err);
    if (want_err) {
        g_free(out);
        return err;
    }
    g_free(err);
    return out;
}

char *apitest_cli(ApiTest *t, int want, const char *const *args)
{
    return cli_run(t, want, args, false);
}

char *apitest_cli_err(ApiTest *t, int want, const char *const *args)
{
    return cli_run(t, want, args, true);
}

void apitest_call_ok(ApiTest *t, const char *method, GVariant *params)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = bustest_call(&t->bus, method, params, &err);
    g_assert_no_error(err);
}

GVariant *apitest_status(ApiTest *t)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = bustest_call(&t->bus, "GetStatus", NULL, &err);
    g_assert_no_error(err);
    return g_variant_get_child_value(r, 0);
}

uint64_t apitest_status_u64(ApiTest *t, const char *key)
{
    g_autoptr(GVariant) s = apitest_status(t);
    guint64 v = 0;
    g_assert_true(g_variant_lookup(s, key, "t", &v));
    return v;
}

GVariant *apitest_group_prop(ApiTest *t, const char *name, const char *prop)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) obj = bustest_call(&t->bus, "GetGroup", g_variant_new("(s)", name), &err);
    g_assert_no_error(err);
    const char *path;
    g_variant_get(obj, "(&o)", &path);
    g_autoptr(GVariant) r =
            g_dbus_connection_call_sync(t->bus.conn, MEMCTL_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                        "Get", g_variant_new("(ss)", MEMCTL_GROUP_INTERFACE, prop),
                                        G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &err);
    g_assert_no_error(err);
    GVariant *v;
    g_variant_get(r, "(v)", &v);
    return v;
}

void apitest_call_fails(ApiTest *t, const char *method, GVariant *params, const char *name,
                        const char *needle)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = bustest_call(&t->bus, method, params, &err);
    g_assert_null(r);
    g_autofree char *remote = g_dbus_error_get_remote_error(err);
    if (g_strcmp0(remote, name) != 0 || (needle && !strstr(err->message, needle)))
        g_error("%s: got %s (%s), expected %s containing '%s'", method, remote, err->message, name,
                needle ? needle : "");
}

GVariant *bustest_dict1(const char *key, GVariant *value)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", key, value);
    return g_variant_builder_end(&b);
}
