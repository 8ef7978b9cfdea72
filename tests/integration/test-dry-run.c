/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dry run (docs/POLICY.md), on the real kernel: memctld decides as it would, records the victim it
 * would kill, kills nobody, and says what followed without it within 10 s: the kernel's OOM killer
 * killed ("kernel-killed"), the group came back under high on its own ("recovered"), or neither
 * ("still-stuck"). The kernel stays the backstop. The policy switches it (daemon.dry_run, by a
 * reload) unless --dry-run holds it on; KillGroup still kills.
 *
 * No swap in the VM: an anonymous hog over high is a verdict on knowledge at once (no-reclaim). Hogs
 * grow 1 MiB at a time with a pause, so that the verdict comes well before memory.max.
 */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/httptest.h"

#define MiB ((uint64_t)1024 * 1024)

static json_object *parse_line(const char *line)
{
    json_object *o = json_tokener_parse(line);
    if (!o)
        g_error("not JSON: %s", line);
    return o;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static uint64_t ju64(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        g_error("no %s in %s", key, json_object_to_json_string(o));
    return json_object_get_uint64(v);
}

/* The hog's dry-run record (which must name it) and, once it comes, its outcome line; both to put. */
static json_object *wait_dry_record(DaemonTest *d, int pid)
{
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *line = daemontest_wait_record(d, 30000, needle, "\"dry_run\":true");
    if (!line)
        g_error("no dry-run record for the hog %d", pid);
    json_object *rec = parse_line(line);
    g_assert_cmpstr(jstr(rec, "type"), ==, "kill");
    g_assert_cmpstr(jstr(rec, "outcome"), ==, "pending");
    g_assert_cmpstr(jstr(rec, "group"), ==, "t");
    return rec;
}

static json_object *wait_outcome(DaemonTest *d, uint64_t seq, int timeout_ms)
{
    g_autofree char *needle = g_strdup_printf("\"seq\":%" G_GUINT64_FORMAT "}", seq); /* the last key */
    g_autofree char *line = daemontest_wait_record(d, timeout_ms, "\"type\":\"dry-run-outcome\"", needle);
    if (!line)
        g_error("no outcome for the dry-run record %" G_GUINT64_FORMAT " in %d ms", seq, timeout_ms);
    return parse_line(line);
}

/* Kill-log lines of kills made (not a dry run's) */
static guint kills_made(DaemonTest *d)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(d->kill_log, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = 0;
    for (char **l = lines; *l; l++)
        n += strstr(*l, "\"type\":\"kill\"") && !strstr(*l, "\"dry_run\":true");
    return n;
}

static double scrape(DaemonTest *d, const char *prefix)
{
    Reply r = http_get(daemontest_metrics_port(d), "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    double v = http_sample_value(r.body, prefix);
    http_reply_clear(&r);
    return v;
}

typedef struct {
    guint n;
    char *outcome[4];
    uint64_t seq[4];
    bool killed; /* a Killed signal came for a kill of memctld's */
} Heard;

static void on_would_kill(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                          const char *signal, GVariant *params, gpointer user_data)
{
    Heard *h = user_data;
    if (h->n >= G_N_ELEMENTS(h->outcome))
        return;
    g_variant_get(params, "(&su&s&sts)", NULL, NULL, NULL, NULL, &h->seq[h->n], &h->outcome[h->n]);
    h->n++;
}

static void on_killed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer user_data)
{
    const char *reason;
    g_variant_get(params, "(&su&s&stt)", NULL, NULL, NULL, &reason, NULL, NULL);
    if (strcmp(reason, "kernel") != 0) /* the kernel's kill is signalled too */
        ((Heard *)user_data)->killed = true;
}

static bool wait_heard(Heard *h, guint n, int timeout_ms)
{
    for (int waited = 0; h->n < n && waited < timeout_ms; waited += 10) {
        bool dummy = false;
        (void)bustest_wait_flag(&dummy, 10);
    }
    return h->n >= n;
}

/* --dry-run: the hog grows past high toward max; memctld records it (the same victim it would have
 * killed) and lets it be; the kernel kills it at max, and the record says "kernel-killed". Seen in
 * the kill log, ListKills, WouldKill, `memctl kills`, GetStatus and the metrics; no Killed signal,
 * no kill counted. Then KillGroup still kills. */
static void test_kernel_killed(void)
{
    ApiTest t;
    const char *args[] = {"--dry-run", "--group=t:high=64M,max=68M", "--metrics-address=127.0.0.1:0", NULL};
    apitest_start(&t, "memctl-dry-kernel", args);
    g_autofree char *grp = g_build_filename(t.root, "t", NULL);
    Heard h = {0};
    guint sub1 = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                    "WouldKill", MEMCTL_MANAGER_PATH, NULL,
                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_would_kill, &h, NULL);
    guint sub2 = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                    "Killed", MEMCTL_MANAGER_PATH, NULL,
                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_killed, &h, NULL);
    g_autoptr(GVariant) st = apitest_status(&t);
    gboolean dry = FALSE;
    g_assert_true(g_variant_lookup(st, "dry_run", "b", &dry));
    g_assert_true(dry);
    g_assert_cmpfloat(scrape(&t.d, "memctl_dry_run "), ==, 1);

    Hog hog;
    const char *hargs[] = {"--cgroup", grp, "--step", "1M", "--interval-ms", "300", NULL};
    hog_start(&hog, hargs);
    int pid = (int)hog.pid;
    json_object *rec = wait_dry_record(&t.d, pid);
    uint64_t seq = ju64(rec, "seq");
    int status = hog_wait(&hog, 120000);
    g_assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* the kernel killed it, memctld did not */
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 1);
    json_object *out = wait_outcome(&t.d, seq, 30000);
    g_assert_cmpstr(jstr(out, "outcome"), ==, "kernel-killed");
    g_assert_cmpstr(jstr(out, "group"), ==, "t");
    g_assert_cmpuint(kills_made(&t.d), ==, 0);

    /* the bus: WouldKill pending then kernel-killed under one seq, no Killed but the kernel's,
     * nothing counted */
    g_assert_true(wait_heard(&h, 2, 5000));
    g_assert_cmpuint(h.seq[0], ==, seq);
    g_assert_cmpuint(h.seq[1], ==, seq);
    g_assert_cmpstr(h.outcome[0], ==, "pending");
    g_assert_cmpstr(h.outcome[1], ==, "kernel-killed");
    g_assert_false(h.killed);
    g_assert_cmpuint(apitest_status_u64(&t, "kills"), ==, 0);
    g_autofree char *kj = apitest_cli(&t, 0, (const char *[]){"kills", "--json", NULL});
    json_object *arr = parse_line(kj);
    json_object *listed = NULL;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (ju64(json_object_array_get_idx(arr, i), "seq") == seq)
            listed = json_object_array_get_idx(arr, i);
    g_assert_nonnull(listed);
    g_assert_cmpstr(jstr(listed, "outcome"), ==, "kernel-killed");
    g_assert_cmpuint(ju64(listed, "pid"), ==, (uint64_t)pid);
    g_assert_cmpuint(ju64(listed, "bytes_freed"), ==, 0);
    g_autofree char *table = apitest_cli(&t, 0, (const char *[]){"kills", NULL});
    g_assert_nonnull(strstr(table, "dry-run"));
    g_assert_nonnull(strstr(table, "kernel-killed"));

    /* metrics: the record and its outcome, no kill */
    g_autofree char *reason =
            g_strdup_printf("memctl_dry_run_kills_total{group=\"t\",reason=\"%s\"}", jstr(rec, "reason"));
    g_assert_cmpfloat(scrape(&t.d, reason), ==, 1);
    g_assert_cmpfloat(scrape(&t.d, "memctl_dry_run_outcomes_total{group=\"t\",outcome=\"kernel-killed\"}"),
                      ==, 1);
    g_assert_cmpfloat(scrape(&t.d, "memctl_kills_total{"), ==, -1);

    /* KillGroup is an operator's act, not memctld's verdict: it kills in a dry run too */
    Hog idle;
    const char *iargs[] = {"--cgroup", grp, "--step", "1M", "--total", "4M", "--hold", NULL};
    hog_start(&idle, iargs);
    g_assert_true(hog_wait_line(&idle, "grown", 30000));
    apitest_call_ok(&t, "KillGroup", g_variant_new("(sst)", "t", "dry-run test", (guint64)1));
    status = hog_wait(&idle, 10000);
    g_assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    g_assert_cmpuint(kills_made(&t.d), ==, 1);

    json_object_put(rec);
    json_object_put(out);
    json_object_put(arr);
    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub1);
    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub2);
    apitest_stop(&t);
}

/* memctld --dry-run on a fresh root (returned, to free) with group t as `spec` gives it
 * ("--group=t:..."); *ret_grp is t's path. */
static char *dry_start(DaemonTest *d, const char *prefix, const char *spec, char **ret_grp)
{
    char *root = cgtest_fresh_root(prefix);
    daemontest_start(d, root, (const char *[]){"--dry-run", spec, NULL});
    *ret_grp = g_build_filename(root, "t", NULL);
    return root;
}

/* A hog that crosses high, stays under max and exits by itself: the group comes back under high
 * without a kill, and the record says "recovered". */
static void test_recovered(void)
{
    DaemonTest d;
    g_autofree char *grp = NULL;
    g_autofree char *root = dry_start(&d, "memctl-dry-recovered", "--group=t:high=64M,max=128M", &grp);
    Hog hog;
    /* 3 MiB over high at most: memory.high's throttling, which grows with the overage, stays too
     * small to hold it, and it exits (at 8 MiB over it took more than 10 s to get there) */
    const char *hargs[] = {"--cgroup", grp, "--step", "1M", "--interval-ms", "200", "--total", "67M", NULL};
    hog_start(&hog, hargs);
    json_object *rec = wait_dry_record(&d, (int)hog.pid);
    int status = hog_wait(&hog, 120000);
    g_assert_true(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    json_object *out = wait_outcome(&d, ju64(rec, "seq"), 30000);
    g_assert_cmpstr(jstr(out, "outcome"), ==, "recovered");
    g_assert_cmpuint(kills_made(&d), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    json_object_put(rec);
    json_object_put(out);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* The kill-log lines of a dry run, in order: (seq, is an outcome) */
static GArray *dry_lines(DaemonTest *d)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(d->kill_log, &text, NULL, NULL));
    GArray *a = g_array_new(FALSE, FALSE, sizeof(uint64_t[2]));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!strstr(*l, "\"dry_run\":true"))
            continue;
        json_object *o = parse_line(*l);
        uint64_t e[2] = {ju64(o, "seq"), strcmp(jstr(o, "type"), "dry-run-outcome") == 0};
        g_array_append_val(a, e);
        json_object_put(o);
    }
    return a;
}

/* High without max: the kernel never kills; a hog held over high is "still-stuck" 10 s after the
 * verdict, with no other record meanwhile; then the next verdict is recorded. */
static void test_still_stuck(void)
{
    DaemonTest d;
    g_autofree char *grp = NULL;
    g_autofree char *root = dry_start(&d, "memctl-dry-stuck", "--group=t:high=64M", &grp);
    Hog hog;
    const char *hargs[] = {"--cgroup", grp,       "--step", "1M",     "--interval-ms",
                           "50",       "--total", "72M",    "--hold", NULL};
    hog_start(&hog, hargs);
    json_object *rec = wait_dry_record(&d, (int)hog.pid);
    uint64_t seq = ju64(rec, "seq");
    json_object *out = wait_outcome(&d, seq, 40000);
    g_assert_cmpstr(jstr(out, "outcome"), ==, "still-stuck");
    uint64_t watched = ju64(out, "time_usec") - ju64(rec, "time_usec");
    g_assert_cmpuint(watched, >=, 10000000); /* the record's time is the detection, before the verdict */
    g_assert_true(hog_alive(&hog));
    /* the next verdict comes after the outcome, never between */
    g_assert_cmpuint(daemontest_wait_count(&d, "\"outcome\":\"pending\"", 2, 10000), >=, 2);
    g_autoptr(GArray) lines = dry_lines(&d);
    g_assert_cmpuint(lines->len, >=, 3);
    const uint64_t(*e)[2] = (const uint64_t(*)[2])lines->data;
    g_assert_cmpuint(e[0][0], ==, seq);
    g_assert_cmpuint(e[0][1], ==, 0);
    g_assert_cmpuint(e[1][0], ==, seq);
    g_assert_cmpuint(e[1][1], ==, 1);
    g_assert_cmpuint(e[2][0], >, seq);
    g_assert_cmpuint(e[2][1], ==, 0);
    g_assert_cmpuint(kills_made(&d), ==, 0);
    (void)hog_kill(&hog);
    json_object_put(rec);
    json_object_put(out);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

static void write_policy(const char *file, bool dry_run)
{
    g_autofree char *text = g_strdup_printf("{\"daemon\": {\"dry_run\": %s}}\n", dry_run ? "true" : "false");
    g_assert_true(g_file_set_contents(file, text, -1, NULL));
}

static bool wait_gauge(DaemonTest *d, double want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (scrape(d, "memctl_dry_run ") == want)
            return true;
        g_usleep(100 * 1000);
    }
    return false;
}

/* daemon.dry_run in the policy: on at start, off by a reload (then memctld kills again); and
 * --dry-run holds it on whatever the policy says. */
static void test_policy_switch(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-dry-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "memctld.json", NULL);
    g_autofree char *a_config = g_strdup_printf("--config=%s", file);
    write_policy(file, true);
    DaemonTest d;
    g_autofree char *root = cgtest_fresh_root("memctl-dry-policy");
    const char *args[] = {a_config, "--group=t:high=64M,max=128M", "--metrics-address=127.0.0.1:0", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    g_assert_cmpfloat(scrape(&d, "memctl_dry_run "), ==, 1);
    Hog hog;
    const char *hargs[] = {"--cgroup", grp,       "--step", "1M",     "--interval-ms",
                           "50",       "--total", "80M",    "--hold", NULL};
    hog_start(&hog, hargs);
    json_object_put(wait_dry_record(&d, (int)hog.pid));
    g_assert_true(hog_alive(&hog));
    (void)hog_kill(&hog);

    write_policy(file, false);
    g_assert_no_errno(kill(d.pid, SIGHUP));
    g_assert_true(wait_gauge(&d, 0, 10000));
    hog_start(&hog, hargs);
    int pid = (int)hog.pid;
    int status = hog_wait(&hog, 60000);
    g_assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *made = daemontest_wait_record(&d, 10000, "\"type\":\"kill\"", needle);
    g_assert_nonnull(made);
    g_assert_null(strstr(made, "\"dry_run\""));
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    daemontest_stop(&d);

    /* --dry-run: the policy's false does not switch it off */
    const char *forced[] = {a_config, "--dry-run", "--metrics-address=127.0.0.1:0", NULL};
    daemontest_start(&d, root, forced);
    g_assert_cmpfloat(scrape(&d, "memctl_dry_run "), ==, 1);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    cgtest_remove_tmpdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dry-run/kernel-killed", test_kernel_killed);
    g_test_add_func("/dry-run/recovered", test_recovered);
    g_test_add_func("/dry-run/still-stuck", test_still_stuck);
    g_test_add_func("/dry-run/policy-switch", test_policy_switch);
    return g_test_run();
}
