/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Prometheus export on the real kernel and a private bus: /metrics after a real kill (promtool
 * check metrics passes, OpenMetrics when asked, the same text over D-Bus and as node_exporter's
 * textfile); a real Prometheus server scraping memctld and answering a query for the kill; and bad
 * HTTP input (wrong paths and methods, garbage, huge headers, slow and piled-up clients) that
 * leaves the daemon serving.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/httptest.h"

/* ---- the daemon under test ------------------------------------------------------------------- */

/* The /metrics URL memctld reports in `memctl status --json` ("" when off). */
static char *status_url(ApiTest *t)
{
    g_autofree char *out = apitest_cli(t, 0, (const char *[]){"--json", "status", NULL});
    json_object *o = json_tokener_parse(out), *u = NULL;
    g_assert_true(o && json_object_object_get_ex(o, "metrics_url", &u));
    char *url = g_strdup(json_object_get_string(u));
    json_object_put(o);
    return url;
}

/* The port memctld bound (it was given port 0). */
static int metrics_port(ApiTest *t)
{
    g_autofree char *url = status_url(t);
    g_test_message("metrics at %s", url);
    g_assert_true(g_str_has_prefix(url, "http://127.0.0.1:") && g_str_has_suffix(url, "/metrics"));
    int port = atoi(url + strlen("http://127.0.0.1:"));
    g_assert_cmpint(port, >, 0);
    return port;
}

static void metrics_start(ApiTest *t, const char *prefix)
{
    apitest_start(t, prefix, (const char *[]){"--metrics-address=127.0.0.1:0", "--group=t:limit=64M", NULL});
}

/* A hog in group t, killed by memctld; returns its pid. */
static int cause_kill(ApiTest *t)
{
    g_autofree char *grp = g_build_filename(t->root, "t", NULL);
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", grp, "--step", "1M", NULL});
    int pid = (int)hog.pid;
    int st = hog_wait(&hog, 60000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *rec = daemontest_wait_record(&t->d, 10000, needle, "\"type\":\"kill\"");
    g_assert_nonnull(rec);
    return pid;
}

/* promtool check metrics on text: exit 0, no lint complaint. */
static void assert_promtool(const char *text)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-promtool-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "m.txt", NULL);
    g_assert_true(g_file_set_contents(file, text, -1, NULL));
    g_autofree char *cmd = g_strdup_printf("promtool check metrics < %s", file);
    g_autofree char *out = NULL, *err = NULL;
    gint status = -1;
    g_autoptr(GError) e = NULL;
    const char *argv[] = {"sh", "-c", cmd, NULL};
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &e));
    g_test_message("promtool: %s%s", out, err);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_cmpstr(g_strstrip(out), ==, "");
    cgtest_remove_tmpdir(dir);
}

static void test_exposition(void)
{
    ApiTest t;
    metrics_start(&t, "memctl-metrics");
    int port = metrics_port(&t);
    cause_kill(&t);

    Reply r = http_get(port, "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    g_assert_true(http_reply_has_header(&r, "Content-Type: text/plain; version=0.0.4"));
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_kills_total{group=\"t\",reason=\""), ==, 1);
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_group_memory_max_bytes{group=\"t\"}"), ==,
                      64.0 * 1024 * 1024);
    g_assert_cmpfloat(
            http_sample_value(r.body, "memctl_group_memory_events_total{group=\"t\",event=\"high\"}"), >, 0);
    g_assert_cmpfloat(
            http_sample_value(r.body, "memctl_group_memory_events_total{group=\"t\",event=\"oom_kill\"}"), ==,
            0);
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_kill_latency_seconds_count{stage=\"signal\"}"), ==,
                      1);
    g_assert_cmpfloat(
            http_sample_value(r.body, "memctl_kill_latency_seconds_bucket{stage=\"freed\",le=\"+Inf\"}"), ==,
            1);
    g_assert_cmpfloat(
            http_sample_value(r.body, "memctl_group_pressure_stall_seconds_total{group=\"t\",kind=\"some\"}"),
            >, 0);
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_daemon_resident_memory_bytes"), >, 1024 * 1024);
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_build_info{version=\""), ==, 1);
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_core_alive"), ==, 1);
    assert_promtool(r.body);
    http_reply_clear(&r);

    /* OpenMetrics when the scraper asks for it; HEAD has headers and no body */
    r = http_get(port, "/metrics",
                 "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    g_assert_cmpint(r.status, ==, 200);
    g_assert_true(http_reply_has_header(&r, "Content-Type: application/openmetrics-text; version=1.0.0"));
    g_assert_true(g_str_has_suffix(r.body, "\n# EOF\n"));
    g_assert_nonnull(strstr(r.body, "# TYPE memctl_kills counter\n"));
    g_assert_cmpfloat(http_sample_value(r.body, "memctl_kills_total{group=\"t\",reason=\""), ==, 1);
    http_reply_clear(&r);
    const char head[] = "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    r = http_raw(port, head, sizeof(head) - 1, 10000);
    g_assert_cmpint(r.status, ==, 200);
    g_assert_cmpstr(r.body, ==, "");
    http_reply_clear(&r);

    /* the same over D-Bus, and as a textfile */
    g_autofree char *cli = apitest_cli(&t, 0, (const char *[]){"metrics", NULL});
    g_assert_cmpfloat(http_sample_value(cli, "memctl_kills_total{group=\"t\",reason=\""), ==, 1);
    assert_promtool(cli);
    g_autofree char *om = apitest_cli(&t, 0, (const char *[]){"metrics", "--openmetrics", NULL});
    g_assert_true(g_str_has_suffix(om, "\n# EOF\n"));
    g_autofree char *dir = g_dir_make_tmp("memctl-textfile-XXXXXX", NULL);
    g_free(apitest_cli(&t, 0, (const char *[]){"metrics", "--textfile-dir", dir, NULL}));
    g_autofree char *prom = g_build_filename(dir, "memctl.prom", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(prom, &text, NULL, NULL));
    g_assert_cmpfloat(http_sample_value(text, "memctl_kills_total{group=\"t\",reason=\""), ==, 1);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    guint files = 0;
    while (g_dir_read_name(d))
        files++;
    g_assert_cmpuint(files, ==, 1); /* no temporary file left behind */
    g_autofree char *bad = g_build_filename(dir, "nope", NULL);
    g_autofree char *err = apitest_cli_err(&t, 2, (const char *[]){"metrics", "--textfile-dir", bad, NULL});
    g_assert_nonnull(strstr(err, "--textfile-dir"));
    g_autoptr(GError) e = NULL;
    g_autoptr(GVariant) v = bustest_call(&t.bus, "GetMetrics", g_variant_new("(s)", "json"), &e);
    g_assert_null(v);
    g_assert_nonnull(strstr(e->message, "format"));
    cgtest_remove_tmpdir(dir);

    /* a removed group's series go away */
    g_free(apitest_cli(&t, 0, (const char *[]){"remove", "t", NULL}));
    r = http_get(port, "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    g_assert_null(strstr(r.body, "group=\"t\""));
    http_reply_clear(&r);
    apitest_stop(&t);
}

/* ---- a real Prometheus server ---------------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The value of a PromQL instant query's first result as a string, or NULL. */
static char *prom_query(int port, const char *query, char **ret_labels)
{
    g_autofree char *q = g_uri_escape_string(query, NULL, FALSE);
    g_autofree char *path = g_strdup_printf("/api/v1/query?query=%s", q);
    Reply r = http_get(port, path, NULL);
    char *value = NULL;
    json_object *o = r.status == 200 ? json_tokener_parse(r.body) : NULL, *data, *result, *v, *m;
    if (o && json_object_object_get_ex(o, "data", &data) &&
        json_object_object_get_ex(data, "result", &result) && json_object_array_length(result) > 0) {
        json_object *first = json_object_array_get_idx(result, 0);
        if (json_object_object_get_ex(first, "value", &v))
            value = g_strdup(json_object_get_string(json_object_array_get_idx(v, 1)));
        if (ret_labels && json_object_object_get_ex(first, "metric", &m))
            *ret_labels = g_strdup(json_object_to_json_string(m));
    }
    json_object_put(o);
    http_reply_clear(&r);
    return value;
}

static void test_prometheus_scrape(void)
{
    if (!g_find_program_in_path("prometheus")) {
        g_test_skip("no prometheus binary (Debian package prometheus; scripts/setup installs it)");
        return;
    }
    ApiTest t;
    metrics_start(&t, "memctl-prom");
    int port = metrics_port(&t);
    cause_kill(&t);

    g_autofree char *dir = g_dir_make_tmp("memctl-prometheus-XXXXXX", NULL);
    g_autofree char *conf = g_build_filename(dir, "prometheus.yml", NULL);
    g_autofree char *yml = g_strdup_printf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                           "scrape_configs:\n  - job_name: memctl\n    static_configs:\n"
                                           "      - targets: ['127.0.0.1:%d']\n",
                                           port);
    g_assert_true(g_file_set_contents(conf, yml, -1, NULL));
    int pport = free_port();
    g_autofree char *a_conf = g_strdup_printf("--config.file=%s", conf);
    g_autofree char *a_data = g_strdup_printf("--storage.tsdb.path=%s/data", dir);
    g_autofree char *a_listen = g_strdup_printf("--web.listen-address=127.0.0.1:%d", pport);
    g_autofree char *log = g_build_filename(dir, "prometheus.log", NULL);
    const char *argv[] = {"prometheus", a_conf, a_data, a_listen, "--log.level=warn", NULL};
    GPid pid;
    g_autoptr(GError) e = NULL;
    int out_fd = -1;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL,
                                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                           NULL, NULL, &out_fd, &e));
    /* up, then the kill, as Prometheus sees them (its first scrape comes within a second or two) */
    g_autofree char *up = NULL, *kills = NULL, *labels = NULL;
    gint64 deadline = g_get_monotonic_time() + 180 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        g_free(up);
        up = prom_query(pport, "up{job=\"memctl\"}", NULL);
        if (up && strcmp(up, "1") == 0) {
            kills = prom_query(pport, "memctl_kills_total{group=\"t\"}", &labels);
            if (kills)
                break;
        }
        g_usleep(500 * 1000);
    }
    g_autoptr(GString) perr = http_recv_all(out_fd, 100);
    g_test_message("prometheus: up=%s kills=%s %s; stderr: %s", up ? up : "-", kills ? kills : "-",
                   labels ? labels : "", perr->str);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(out_fd);
    g_assert_cmpstr(up, ==, "1");
    g_assert_cmpstr(kills, ==, "1");
    g_assert_nonnull(strstr(labels, "\"reason\""));
    cgtest_remove_tmpdir(dir);
    apitest_stop(&t);
}

/* ---- hostile HTTP ---------------------------------------------------------------------------- */

/* ---- where it listens ------------------------------------------------------------------------ */

static char *write_config(const char *dir, const char *json)
{
    char *file = g_build_filename(dir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(file, json, -1, NULL));
    return file;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1; /* the last connection to memctld may still be in TIME_WAIT */
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), ==, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

static void test_addresses(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-metrics-addr-XXXXXX", NULL);
    ApiTest t;
    /* the policy file's daemon.metrics_address */
    int port = free_port();
    g_autofree char *json = g_strdup_printf("{\"daemon\": {\"metrics_address\": \"127.0.0.1:%d\"}}", port);
    g_autofree char *conf = write_config(dir, json);
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    apitest_start(&t, "memctl-metrics-addr", (const char *[]){a_conf, NULL});
    g_autofree char *want = g_strdup_printf("http://127.0.0.1:%d/metrics", port);
    g_autofree char *url = status_url(&t);
    g_assert_cmpstr(url, ==, want);
    Reply r = http_get(port, "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    http_reply_clear(&r);
    apitest_stop(&t);

    /* nothing said: the documented default, loopback only */
    g_free(conf);
    conf = write_config(dir, "{}");
    apitest_start(&t, "memctl-metrics-addr", (const char *[]){a_conf, NULL});
    g_free(url);
    url = status_url(&t);
    g_assert_cmpstr(url, ==, "http://" MEMCTL_METRICS_DEFAULT_ADDRESS "/metrics");
    r = http_get(10735, "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    http_reply_clear(&r);
    apitest_stop(&t);

    /* the default port taken: memctld runs anyway, without HTTP, and says so */
    int held = listen_on(10735);
    apitest_start(&t, "memctl-metrics-addr", (const char *[]){a_conf, NULL});
    g_free(url);
    url = status_url(&t);
    g_assert_cmpstr(url, ==, "");
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "/metrics is off"));
    apitest_stop(&t);

    /* an address asked for that cannot be had, or is not an address: memctld refuses to start */
    g_autofree char *root = g_strdup_printf("%s/memctl-metrics-fail.%d", cgtest_mount(), (int)getpid());
    g_autofree char *err = NULL;
    int st = daemontest_run_fail(root, (const char *[]){"--metrics-address=127.0.0.1:10735", NULL}, &err);
    g_assert_cmpint(st, ==, 1);
    g_assert_nonnull(strstr(err, "--metrics-address"));
    g_clear_pointer(&err, g_free);
    st = daemontest_run_fail(root, (const char *[]){"--metrics-address=localhost:80", NULL}, &err);
    g_assert_cmpint(st, ==, 2);
    g_assert_nonnull(strstr(err, "not an IPv4 address"));
    close(held);
    cgtest_remove_tree(root);
    cgtest_remove_tmpdir(dir);
}

/* memctld's fds open on `file` of group dir (their numbers, in ret, at most 8), and how many. */
static guint fds_on(GPid pid, const char *dir, const char *file, int ret[8])
{
    g_autofree char *fddir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autofree char *want = g_build_filename(dir, file, NULL);
    g_autoptr(GDir) d = g_dir_open(fddir, 0, NULL);
    g_assert_nonnull(d);
    guint n = 0;
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(fddir, e, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (target && g_str_equal(target, want) && n < 8)
            ret[n++] = atoi(e);
    }
    return n;
}

/*
 * The files the core keeps open that a scrape reads too (memory.current, memory.pressure) are one
 * open file in the kernel for both, not two: each open file that was read holds a page of seq_file
 * buffer, about 30 KiB of kernel memory per group in all before (docs/BENCHMARKS.md, "Scale").
 * memory.peak, which only the scrape reads, has its own.
 */
static void test_shared_files(void)
{
    ApiTest t;
    metrics_start(&t, "memctl-metrics-shared");
    int port = metrics_port(&t);
    g_autofree char *grp = g_build_filename(t.root, "t", NULL);
    for (guint round = 0; round < 2; round++) { /* the second scrape reuses what the first opened */
        Reply r = http_get(port, "/metrics", NULL);
        g_assert_cmpint(r.status, ==, 200);
        g_assert_cmpfloat(http_sample_value(r.body, "memctl_group_memory_current_bytes{group=\"t\"}"), >=, 0);
        g_assert_cmpfloat(
                http_sample_value(r.body,
                                  "memctl_group_pressure_stall_seconds_total{group=\"t\",kind=\"some\"}"),
                >=, 0);
        http_reply_clear(&r);
        static const char *const shared[] = {"memory.current", "memory.pressure"};
        for (size_t k = 0; k < G_N_ELEMENTS(shared); k++) {
            int fds[8];
            guint n = fds_on(t.d.pid, grp, shared[k], fds);
            g_test_message("%s: %u fd(s)", shared[k], n);
            g_assert_cmpuint(n, ==, 2); /* the core's, and the scrape's */
            g_assert_cmpint(syscall(SYS_kcmp, (pid_t)t.d.pid, (pid_t)t.d.pid, KCMP_FILE, fds[0], fds[1]), ==,
                            0);
        }
        int fds[8];
        g_assert_cmpuint(fds_on(t.d.pid, grp, "memory.peak", fds), ==, 1);
    }
    apitest_stop(&t);
}

/* A scrape serves a group's memory.events as the last scrape parsed it while the kernel says the
 * file did not change since (one poll() over every group's file): a scrape after new events shows
 * them, the file's own counters, and a scrape after none shows the same again. */
static void test_events_fresh(void)
{
    ApiTest t;
    metrics_start(&t, "memctl-metrics-events");
    int port = metrics_port(&t);
    g_autofree char *grp = g_build_filename(t.root, "t", NULL);
    const char *high = "memctl_group_memory_events_total{group=\"t\",event=\"high\"}";
    Reply r = http_get(port, "/metrics", NULL);
    double before = http_sample_value(r.body, high);
    http_reply_clear(&r);
    g_assert_cmpfloat(before, ==, (double)cgtest_read_key(grp, "memory.events", "high"));
    for (int i = 0; i < 3; i++) {
        cause_kill(&t);
        g_usleep(100 * 1000); /* the kernel announces a change at most 12 ms after it (HZ=250) */
        r = http_get(port, "/metrics", NULL);
        double served = http_sample_value(r.body, high);
        http_reply_clear(&r);
        uint64_t file = cgtest_read_key(grp, "memory.events", "high");
        g_test_message("kill %d: high %.0f served, %" G_GUINT64_FORMAT " in the file", i + 1, served, file);
        g_assert_cmpfloat(served, >, before);
        g_assert_cmpfloat(served, ==, (double)file);
        r = http_get(port, "/metrics", NULL); /* nothing new: the same */
        g_assert_cmpfloat(http_sample_value(r.body, high), ==, served);
        http_reply_clear(&r);
        before = served;
    }
    apitest_stop(&t);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metrics/exposition", test_exposition);
    g_test_add_func("/metrics/prometheus-scrape", test_prometheus_scrape);
    g_test_add_func("/metrics/addresses", test_addresses);
    g_test_add_func("/metrics/shared-files", test_shared_files);
    g_test_add_func("/metrics/events-fresh", test_events_fresh);
    return g_test_run();
}
