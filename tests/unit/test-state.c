/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy/state.c: the state file, entry by entry. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "policy/state.h"

#define MiB (1024ull * 1024)

static int parse(const char *text, MemctlState *st, MemctlPolicyError *e)
{
    memctl_state_init(st);
    return memctl_state_parse("state.json", text, strlen(text), st, e);
}

static bool has_problem(const MemctlState *st, const char *needle)
{
    for (size_t i = 0; i < st->n_problems; i++)
        if (strstr(st->problems[i], needle))
            return true;
    return false;
}

static void test_valid(void)
{
    _cleanup_state_ MemctlState st;
    MemctlPolicyError e;
    g_assert_cmpint(
            parse("{\"version\": 1, \"groups\": {\"web\": {\"limit\": 67108864, \"slice\": "
                  "\"m.slice/w.scope\"},"
                  " \"web/a\": {\"min\": \"4M\", \"reclaim\": \"auto\", \"reclaim_pressure\": 2000,"
                  " \"reclaim_floor\": 8388608}}, \"critical\": [{\"group\": \"web\", \"bytes\": 16777216},"
                  " {\"pid\": 4242, \"start_time\": 98765, \"bytes\": 0}]}",
                  &st, &e),
            ==, 0);
    g_assert_cmpuint(st.n_problems, ==, 0);
    g_assert_cmpuint(st.groups.n_groups, ==, 2);
    g_assert_cmpstr(st.groups.groups[0].name, ==, "web");
    g_assert_cmpuint(st.groups.groups[0].limits.limit, ==, 64 * MiB);
    g_assert_cmpstr(st.groups.groups[0].slice, ==, "m.slice/w.scope");
    /* the reclaim keys as the state file writes them (daemon/state-file.c) */
    g_assert_true(st.groups.groups[1].limits.reclaim_auto);
    g_assert_cmpuint(st.groups.groups[1].limits.reclaim_pressure_ppm, ==, 2000);
    g_assert_cmpuint(st.groups.groups[1].limits.reclaim_floor, ==, 8 * MiB);
    g_assert_cmpuint(st.n_critical, ==, 2);
    g_assert_cmpstr(st.critical[0].group, ==, "web");
    g_assert_cmpuint(st.critical[0].bytes, ==, 16 * MiB);
    g_assert_cmpstr(st.critical[1].group, ==, "");
    g_assert_cmpint(st.critical[1].pid, ==, 4242);
    g_assert_cmpuint(st.critical[1].start_time, ==, 98765);
}

/* One bad entry loses nothing else: each is named and left out. */
static void test_bad_entries(void)
{
    _cleanup_state_ MemctlState st;
    MemctlPolicyError e;
    g_assert_cmpint(parse("{\"version\": 1, \"extra\": 1, \"groups\": {\"a\": {\"limit\": \"12Q\"}, \"b\": "
                          "{\"limit\": \"1G\"},"
                          " \"../c\": {}, \"d\": {\"min\": \"2G\", \"low\": \"1G\"}}, \"critical\": "
                          "[{\"group\": \"b\"},"
                          " {\"group\": \"b\", \"bytes\": 0}, {\"pid\": 0, \"start_time\": 1, \"bytes\": 0},"
                          " {\"pid\": 7, \"bytes\": 0}, 3, {\"group\": \"../x\", \"bytes\": 1}]}",
                          &st, &e),
                    ==, 0);
    g_assert_cmpuint(st.groups.n_groups, ==, 1);
    g_assert_cmpstr(st.groups.groups[0].name, ==, "b");
    g_assert_cmpuint(st.n_critical, ==, 1);
    g_assert_cmpstr(st.critical[0].group, ==, "b");
    g_assert_true(has_problem(&st, "extra: unknown key"));
    g_assert_true(has_problem(&st, "groups.a.limit"));
    g_assert_true(has_problem(&st, "groups.../c"));
    g_assert_true(has_problem(&st, "groups.d.min"));
    g_assert_true(has_problem(&st, "critical[0]: needs \"bytes\""));
    g_assert_true(has_problem(&st, "critical[2]: a process registration needs"));
    g_assert_true(has_problem(&st, "critical[3]: a process registration needs"));
    g_assert_true(has_problem(&st, "critical[4]"));
    g_assert_true(has_problem(&st, "critical[5].group: not a group name"));
    g_assert_cmpuint(st.n_problems, ==, 9);
}

/* The kill counters: in all and by group; a bad entry is named and left out, the rest kept. */
static void test_kills(void)
{
    _cleanup_state_ MemctlState st;
    MemctlPolicyError e;
    g_assert_cmpint(parse("{\"version\": 1, \"kills\": {\"memctld\": 12, \"kernel\": 1, \"groups\": "
                          "{\"web\": {\"memctld\": 3, \"kernel\": 1}, \"db\": {\"memctld\": 9},"
                          " \"../x\": {\"memctld\": 1}, \"neg\": {\"memctld\": -1},"
                          " \"odd\": {\"memctld\": 1, \"colour\": 2}, \"str\": \"3\"}}}",
                          &st, &e),
                    ==, 0);
    g_assert_cmpuint(st.kills_memctld, ==, 12);
    g_assert_cmpuint(st.kills_kernel, ==, 1);
    g_assert_cmpuint(st.n_kills, ==, 2);
    g_assert_cmpstr(st.kills[0].group, ==, "web");
    g_assert_cmpuint(st.kills[0].memctld, ==, 3);
    g_assert_cmpuint(st.kills[0].kernel, ==, 1);
    g_assert_cmpstr(st.kills[1].group, ==, "db");
    g_assert_cmpuint(st.kills[1].memctld, ==, 9);
    g_assert_cmpuint(st.kills[1].kernel, ==, 0);
    g_assert_true(has_problem(&st, "kills.groups: not a group name"));
    g_assert_true(has_problem(&st, "kills.groups.neg"));
    g_assert_true(has_problem(&st, "kills.groups.odd"));
    g_assert_true(has_problem(&st, "kills.groups.str"));
    g_assert_cmpuint(st.n_problems, ==, 4);

    _cleanup_state_ MemctlState bad;
    g_assert_cmpint(parse("{\"version\": 1, \"kills\": {\"memctld\": \"x\", \"kernel\": 18446744073709551615,"
                          " \"other\": 1, \"groups\": []}}",
                          &bad, &e),
                    ==, 0);
    g_assert_cmpuint(bad.kills_memctld, ==, 0);
    g_assert_cmpuint(bad.n_kills, ==, 0);
    g_assert_true(has_problem(&bad, "kills.memctld"));
    g_assert_true(has_problem(&bad, "kills.kernel"));
    g_assert_true(has_problem(&bad, "kills.other: unknown key"));
    g_assert_true(has_problem(&bad, "kills.groups: expected an object"));

    _cleanup_state_ MemctlState notobj;
    g_assert_cmpint(parse("{\"version\": 1, \"kills\": 3}", &notobj, &e), ==, 0);
    g_assert_true(has_problem(&notobj, "kills: expected an object"));
}

/* Nothing readable: an error naming the file, nothing kept. */
static void test_unreadable(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
            {"", "not valid JSON"},
            {"{\"version\": 1,", "not valid JSON"},
            {"[]", "not a memctl state file of version 1"},
            {"{\"version\": 2}", "not a memctl state file of version 1"},
            {"{\"version\": \"1\"}", "not a memctl state file of version 1"},
            {"{\"version\": 1, \"version\": 1}", "version: line 1: the key is given twice"},
            {"{\"version\": 1, \"groups\": {\"a\\u0000b\": {}}}", "\"\\u0000\""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        _cleanup_state_ MemctlState st;
        MemctlPolicyError e = {0};
        g_assert_cmpint(parse(cases[i].text, &st, &e), ==, -EINVAL);
        char buf[1024];
        const char *msg = memctl_policy_error_format(&e, buf, sizeof(buf));
        if (!strstr(msg, cases[i].want) || !strstr(msg, "state.json"))
            g_error("'%s': got '%s', expected '%s'", cases[i].text, msg, cases[i].want);
        g_assert_cmpuint(st.groups.n_groups, ==, 0);
        g_assert_cmpuint(st.n_critical, ==, 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/state/valid", test_valid);
    g_test_add_func("/state/bad-entries", test_bad_entries);
    g_test_add_func("/state/kills", test_kills);
    g_test_add_func("/state/unreadable", test_unreadable);
    return g_test_run();
}
