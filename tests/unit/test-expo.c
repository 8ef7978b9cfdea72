/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics exposition writer: names, escaping, histograms and negotiation in both formats. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "daemon/metrics/expo.h"

static char *render_counter(MemctlExpoFormat f, const char *group)
{
    GString *out = g_string_new(NULL);
    MemctlExpo x;
    memctl_expo_init(&x, f, out);
    memctl_expo_family(&x, "memctl_kills", MEMCTL_EXPO_COUNTER, "Kills \\ by \"group\"\nand reason.");
    memctl_expo_u64(&x, (const char *[]){"group", group, "reason", "stall", NULL}, 3);
    memctl_expo_finish(&x);
    return g_string_free(out, FALSE);
}

static void test_counter_prometheus(void)
{
    g_autofree char *s = render_counter(MEMCTL_EXPO_PROMETHEUS, "web");
    g_assert_cmpstr(s, ==,
                    "# HELP memctl_kills_total Kills \\\\ by \"group\"\\nand reason.\n"
                    "# TYPE memctl_kills_total counter\n"
                    "memctl_kills_total{group=\"web\",reason=\"stall\"} 3\n");
}

static void test_counter_openmetrics(void)
{
    g_autofree char *s = render_counter(MEMCTL_EXPO_OPENMETRICS, "web");
    g_assert_cmpstr(s, ==,
                    "# HELP memctl_kills Kills \\\\ by \\\"group\\\"\\nand reason.\n"
                    "# TYPE memctl_kills counter\n"
                    "memctl_kills_total{group=\"web\",reason=\"stall\"} 3\n"
                    "# EOF\n");
}

static void test_label_escaping(void)
{
    g_autofree char *s = render_counter(MEMCTL_EXPO_PROMETHEUS, "a\"b\\c\nd");
    g_assert_nonnull(strstr(s, "{group=\"a\\\"b\\\\c\\nd\",reason=\"stall\"} 3\n"));
}

static void test_gauges_units_info(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    MemctlExpo x;
    memctl_expo_init(&x, MEMCTL_EXPO_OPENMETRICS, out);
    memctl_expo_family(&x, "memctl_group_memory_max_bytes", MEMCTL_EXPO_GAUGE, "max");
    memctl_expo_u64(&x, (const char *[]){"group", "g", NULL}, UINT64_MAX);
    memctl_expo_family(&x, "memctl_build", MEMCTL_EXPO_INFO, "version");
    memctl_expo_u64(&x, (const char *[]){"version", "1.2", NULL}, 1);
    memctl_expo_family(&x, "memctl_daemon_uptime_seconds", MEMCTL_EXPO_GAUGE, "up");
    memctl_expo_double(&x, NULL, 0.0025);
    memctl_expo_finish(&x);
    g_assert_cmpstr(out->str, ==,
                    "# HELP memctl_group_memory_max_bytes max\n"
                    "# TYPE memctl_group_memory_max_bytes gauge\n"
                    "# UNIT memctl_group_memory_max_bytes bytes\n"
                    "memctl_group_memory_max_bytes{group=\"g\"} +Inf\n"
                    "# HELP memctl_build version\n"
                    "# TYPE memctl_build info\n"
                    "memctl_build_info{version=\"1.2\"} 1\n"
                    "# HELP memctl_daemon_uptime_seconds up\n"
                    "# TYPE memctl_daemon_uptime_seconds gauge\n"
                    "# UNIT memctl_daemon_uptime_seconds seconds\n"
                    "memctl_daemon_uptime_seconds 0.0025\n"
                    "# EOF\n");
    /* in 0.0.4 an info is a gauge named *_info, and there are no UNIT lines */
    g_string_truncate(out, 0);
    memctl_expo_init(&x, MEMCTL_EXPO_PROMETHEUS, out);
    memctl_expo_family(&x, "memctl_build", MEMCTL_EXPO_INFO, "version");
    memctl_expo_u64(&x, NULL, 1);
    memctl_expo_family(&x, "memctl_host_memory_total_bytes", MEMCTL_EXPO_GAUGE, "total");
    memctl_expo_double(&x, NULL, 1e15 + 1);
    g_assert_cmpstr(out->str, ==,
                    "# HELP memctl_build_info version\n"
                    "# TYPE memctl_build_info gauge\n"
                    "memctl_build_info 1\n"
                    "# HELP memctl_host_memory_total_bytes total\n"
                    "# TYPE memctl_host_memory_total_bytes gauge\n"
                    "memctl_host_memory_total_bytes 1000000000000001\n");
}

/* Numbers without printf: every digit of a u64, and microseconds as exact seconds. */
static void test_numbers(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    MemctlExpo x;
    memctl_expo_init(&x, MEMCTL_EXPO_PROMETHEUS, out);
    memctl_expo_family(&x, "n", MEMCTL_EXPO_GAUGE, "n");
    const uint64_t u[] = {0, 7, 10, 1234567890, UINT64_MAX - 1};
    for (size_t i = 0; i < G_N_ELEMENTS(u); i++)
        memctl_expo_u64(&x, NULL, u[i]);
    memctl_expo_family(&x, "s_seconds", MEMCTL_EXPO_COUNTER, "s");
    const uint64_t us[] = {0, 1, 10, 999999, 1000000, 3000000, 12034500, 123456789012};
    for (size_t i = 0; i < G_N_ELEMENTS(us); i++)
        memctl_expo_usec(&x, (const char *[]){"k", "v", NULL}, us[i]);
    g_assert_cmpstr(out->str, ==,
                    "# HELP n n\n# TYPE n gauge\nn 0\nn 7\nn 10\nn 1234567890\nn 18446744073709551614\n"
                    "# HELP s_seconds_total s\n# TYPE s_seconds_total counter\n"
                    "s_seconds_total{k=\"v\"} 0\ns_seconds_total{k=\"v\"} 0.000001\n"
                    "s_seconds_total{k=\"v\"} 0.00001\ns_seconds_total{k=\"v\"} 0.999999\n"
                    "s_seconds_total{k=\"v\"} 1\ns_seconds_total{k=\"v\"} 3\n"
                    "s_seconds_total{k=\"v\"} 12.0345\ns_seconds_total{k=\"v\"} 123456.789012\n");
}

static void test_histogram(void)
{
    static const double bounds[] = {0.01, 1};
    static const uint64_t counts[] = {2, 0, 1}; /* 2 <= 10 ms, none in (10 ms, 1 s], 1 above */
    for (int f = 0; f < 2; f++) {
        g_autoptr(GString) out = g_string_new(NULL);
        MemctlExpo x;
        memctl_expo_init(&x, f ? MEMCTL_EXPO_OPENMETRICS : MEMCTL_EXPO_PROMETHEUS, out);
        memctl_expo_family(&x, "memctl_kill_latency_seconds", MEMCTL_EXPO_HISTOGRAM, "latency");
        memctl_expo_histogram(&x, (const char *[]){"stage", "signal", NULL}, bounds, counts, 2, 2.5);
        const char *want = f ? "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"0.01\"} 2\n"
                               "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"1.0\"} 2\n"
                               "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"+Inf\"} 3\n"
                               "memctl_kill_latency_seconds_count{stage=\"signal\"} 3\n"
                               "memctl_kill_latency_seconds_sum{stage=\"signal\"} 2.5\n"
                             : "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"0.01\"} 2\n"
                               "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"1\"} 2\n"
                               "memctl_kill_latency_seconds_bucket{stage=\"signal\",le=\"+Inf\"} 3\n"
                               "memctl_kill_latency_seconds_count{stage=\"signal\"} 3\n"
                               "memctl_kill_latency_seconds_sum{stage=\"signal\"} 2.5\n";
        g_assert_nonnull(strstr(out->str, "# TYPE memctl_kill_latency_seconds histogram\n"));
        g_assert_nonnull(strstr(out->str, want));
    }
}

static void test_negotiate(void)
{
    g_assert_cmpint(memctl_expo_negotiate(NULL), ==, MEMCTL_EXPO_PROMETHEUS);
    g_assert_cmpint(memctl_expo_negotiate("*/*"), ==, MEMCTL_EXPO_PROMETHEUS);
    g_assert_cmpint(memctl_expo_negotiate("text/plain;version=0.0.4"), ==, MEMCTL_EXPO_PROMETHEUS);
    /* what Prometheus 2.x sends */
    g_assert_cmpint(
            memctl_expo_negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-"
                                  "text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            ==, MEMCTL_EXPO_OPENMETRICS);
    g_assert_cmpint(memctl_expo_negotiate("application/openmetrics-text"), ==, MEMCTL_EXPO_OPENMETRICS);
    g_assert_cmpint(memctl_expo_negotiate("application/openmetrics-text; version=0.0.1"), ==,
                    MEMCTL_EXPO_PROMETHEUS);
    g_assert_cmpint(memctl_expo_negotiate("application/openmetrics-text;q=0, text/plain"), ==,
                    MEMCTL_EXPO_PROMETHEUS);
    /* Empty ranges and parameters (a client may send anything): no crash, the plain format. */
    static const char *const hostile[] = {"",
                                          ",",
                                          ",,",
                                          "a,,b",
                                          ";",
                                          ";;,;",
                                          " , ; ,",
                                          "\t",
                                          "application/openmetrics-text,,",
                                          ";q=0",
                                          "=;=,=",
                                          "a;;b;c,,",
                                          "application/openmetrics-text;"};
    for (size_t i = 0; i < G_N_ELEMENTS(hostile); i++)
        (void)memctl_expo_negotiate(hostile[i]);
    g_assert_cmpint(memctl_expo_negotiate("a,,b"), ==, MEMCTL_EXPO_PROMETHEUS);
    g_assert_cmpint(memctl_expo_negotiate(",,application/openmetrics-text"), ==, MEMCTL_EXPO_OPENMETRICS);
    g_assert_cmpint(memctl_expo_negotiate("application/openmetrics-text;;version=1.0.0"), ==,
                    MEMCTL_EXPO_OPENMETRICS);
    MemctlExpoFormat f = MEMCTL_EXPO_OPENMETRICS;
    g_assert_true(memctl_expo_format_from_string("", &f) && f == MEMCTL_EXPO_PROMETHEUS);
    g_assert_true(memctl_expo_format_from_string("openmetrics", &f) && f == MEMCTL_EXPO_OPENMETRICS);
    g_assert_false(memctl_expo_format_from_string("json", &f));
    g_assert_cmpint(f, ==, MEMCTL_EXPO_OPENMETRICS); /* untouched */
    g_assert_true(g_str_has_prefix(memctl_expo_content_type(MEMCTL_EXPO_OPENMETRICS),
                                   "application/openmetrics-text; version=1.0.0"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/expo/counter-prometheus", test_counter_prometheus);
    g_test_add_func("/expo/counter-openmetrics", test_counter_openmetrics);
    g_test_add_func("/expo/label-escaping", test_label_escaping);
    g_test_add_func("/expo/gauges-units-info", test_gauges_units_info);
    g_test_add_func("/expo/numbers", test_numbers);
    g_test_add_func("/expo/histogram", test_histogram);
    g_test_add_func("/expo/negotiate", test_negotiate);
    return g_test_run();
}
