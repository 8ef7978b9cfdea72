/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <string.h>

#include "policy/policy-file.h"

#define MiB (1024ull * 1024)

/* Adds a document and checks the policy; returns the formatted error, or NULL on success. */
static char *load(MemctlPolicy *p, const char *file, const char *text)
{
    MemctlPolicyError e = {0};
    char buf[1024];
    if (memctl_policy_add(p, file, text, &e) < 0 || memctl_policy_check(p, &e) < 0)
        return g_strdup(memctl_policy_error_format(&e, buf, sizeof(buf)));
    return NULL;
}

static void assert_error(const char *text, const char *expected)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_autofree char *err = load(&p, "test.json", text);
    if (!err)
        g_error("accepted: %s", text);
    if (!strstr(err, expected))
        g_error("for %s\n  got:      %s\n  expected: %s", text, err, expected);
}

static void test_empty(void)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_assert_null(load(&p, "a.json", "{}"));
    g_assert_cmpuint(p.set, ==, 0);
    g_assert_cmpuint(p.n_groups, ==, 0);
    g_assert_cmpuint(p.window_ms, ==, 50);
    g_assert_cmpuint(p.priority, ==, 50);
    g_assert_cmpuint(p.budget.stall_budget_pct, ==, 60);
    g_assert_true(p.host.enabled);
    g_assert_cmpuint(p.n_files, ==, 1);
    g_assert_cmpstr(p.files[0], ==, "a.json");
}

static void test_full(void)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_autofree char *err = load(
            &p, "memctld.json",
            "{\"$schema\": \"x\","
            " \"daemon\": {\"root\": \"/sys/fs/cgroup/m.slice\", \"reserve\": \"64M\","
            "   \"metrics_address\": \"127.0.0.1:9750\", \"state_file\": \"/var/lib/memctl/s.json\","
            "   \"kill_log\": \"\", \"window_ms\": 20, \"stuck_windows\": 3, \"dry_run\": true},"
            " \"defaults\": {\"priority\": 40, \"progress_floor\": \"2M\","
            "   \"stall_budget_pct\": 70, \"stall_windows\": 10},"
            " \"host\": {\"enabled\": false, \"available_min\": \"10%\", \"watermark_windows\": 3,"
            "   \"stall_seconds\": 30},"
            " \"groups\": {"
            "   \"web\": {\"limit\": \"512M\", \"low\": 104857600, \"priority\": 80,"
            "     \"kill_mode\": \"group\", \"prefer\": {\"comm\": [\"worker\"], \"cgroup\": [\"batch\"]},"
            "     \"avoid\": {\"comm\": [\"nginx\", \"master\"]}, \"stall_budget_pct\": 90},"
            "   \"web/batch\": {\"max\": \"max\", \"oom_group\": false},"
            "   \"db\": {\"min\": \"1G\", \"swap_max\": 0}}}");
    g_assert_null(err);
    g_assert_cmpuint(p.set, ==, 0x17f);
    g_assert_true(p.dry_run);
    g_assert_cmpstr(p.root, ==, "/sys/fs/cgroup/m.slice");
    g_assert_cmpuint(p.reserve, ==, 64 * MiB);
    g_assert_cmpstr(p.metrics_address, ==, "127.0.0.1:9750");
    g_assert_cmpstr(p.kill_log, ==, "");
    g_assert_cmpuint(p.window_ms, ==, 20);
    g_assert_cmpuint(p.stuck_windows, ==, 3);
    g_assert_cmpuint(p.priority, ==, 40);
    g_assert_cmpuint(p.progress_floor, ==, 2 * MiB);
    g_assert_cmpuint(p.budget.stall_windows, ==, 10);
    g_assert_false(p.host.enabled);
    g_assert_cmpuint(p.host.available_min_pct, ==, 10);
    g_assert_cmpuint(p.host.watermark_windows, ==, 3);
    g_assert_cmpuint(p.host.stall_usec, ==, 30 * G_USEC_PER_SEC);
    g_assert_cmpuint(p.n_groups, ==, 3);
    g_assert_cmpstr(p.groups[0].name, ==, "db"); /* sorted */
    const MemctlGroupPolicy *web = memctl_policy_group(&p, "web");
    g_assert_nonnull(web);
    g_assert_cmpuint(web->limits.limit, ==, 512 * MiB);
    g_assert_cmpuint(web->limits.low, ==, 100 * MiB);
    g_assert_cmpuint(web->limits.priority, ==, 80);
    g_assert_true(web->limits.oom_group);
    g_assert_true(memctl_limits_has(&web->limits, MEMCTL_KEY_OOM_GROUP));
    g_assert_cmpuint(web->prefer.n_comm, ==, 1);
    g_assert_cmpstr(web->prefer.comm[0], ==, "worker");
    g_assert_cmpstr(web->prefer.cgroup[0], ==, "batch");
    g_assert_cmpuint(web->avoid.n_comm, ==, 2);
    g_assert_cmpuint(web->budget.stall_budget_pct, ==, 90);
    g_assert_cmpuint(web->budget.stall_windows, ==, 0);
    g_assert_null(memctl_policy_group(&p, "nope"));
    const MemctlGroupPolicy *db = memctl_policy_group(&p, "db");
    g_assert_cmpuint(db->limits.swap_max, ==, 0);
    g_assert_true(memctl_limits_has(&db->limits, MEMCTL_KEY_SWAP_MAX));
}

static void test_errors_name_the_path(void)
{
    assert_error("{\"bogus\": 1}", "test.json: bogus: unknown key");
    assert_error("{\"daemon\": {\"dry_run\": \"yes\"}}", "test.json: daemon.dry_run: expected true or false");
    assert_error("{\"groups\": {\"web\": {\"lmit\": \"1G\"}}}", "test.json: groups.web.lmit: unknown key");
    assert_error("{\"groups\": {\"web\": {\"limit\": \"12Q\"}}}", "groups.web.limit: '12Q' is not a size");
    assert_error("{\"groups\": {\"web\": {\"limit\": -1}}}", "groups.web.limit: a size cannot be negative");
    assert_error("{\"groups\": {\"web\": {\"limit\": 1.5}}}", "groups.web.limit: expected a size");
    assert_error("{\"groups\": {\"web\": {\"priority\": 0}}}",
                 "groups.web.priority: 0 is out of range (1-100)");
    assert_error("{\"groups\": {\"web\": {\"priority\": \"5\"}}}",
                 "groups.web.priority: expected an integer");
    assert_error("{\"groups\": {\"web\": {\"oom_group\": 1}}}",
                 "groups.web.oom_group: expected true or false");
    assert_error("{\"groups\": {\"web\": {\"kill_mode\": \"all\"}}}",
                 "groups.web.kill_mode: expected \"process\"");
    assert_error("{\"groups\": {\"web\": {\"kill_mode\": \"group\", \"oom_group\": true}}}",
                 "groups.web: give kill_mode or oom_group, not both");
    assert_error("{\"groups\": {\"web\": {\"prekill_timeout\": \"11s\"}}}",
                 "groups.web.prekill_timeout: '11s' is out of range (at most 10 s)");
    assert_error("{\"groups\": {\"web\": {\"prekill_timeout\": \"2m\"}}}",
                 "groups.web.prekill_timeout: '2m' is not a duration");
    assert_error("{\"groups\": {\"web\": {\"prekill_timeout\": true}}}",
                 "groups.web.prekill_timeout: expected milliseconds");
    assert_error("{\"groups\": {\"web\": {\"reclaim\": \"yes\"}}}",
                 "groups.web.reclaim: expected \"auto\" (proactive reclaim) or \"off\"");
    assert_error("{\"groups\": {\"web\": {\"reclaim\": true}}}", "groups.web.reclaim: expected \"auto\"");
    assert_error("{\"groups\": {\"web\": {\"reclaim_pressure\": \"20%\"}}}",
                 "groups.web.reclaim_pressure: '20%' is out of range (0.001%-10%)");
    assert_error("{\"groups\": {\"web\": {\"reclaim_pressure\": \"fast\"}}}",
                 "groups.web.reclaim_pressure: 'fast' is not a stall share");
    assert_error("{\"groups\": {\"web\": {\"reclaim_pressure\": 1.5}}}",
                 "groups.web.reclaim_pressure: expected microseconds");
    assert_error("{\"groups\": {\"web\": {\"reclaim_floor\": \"max\"}}}",
                 "groups.web.reclaim_floor: 'max' is out of range");
    assert_error("{\"groups\": {\"web\": {\"prekill_exec\": \"hook.sh\"}}}",
                 "groups.web.prekill_exec: 'hook.sh' is not an absolute path");
    assert_error("{\"groups\": {\"../x\": {}}}", "groups.../x: '../x' is not a group name");
    assert_error("{\"groups\": {\".control\": {}}}", "groups..control: '.control' is not a group name");
    assert_error("{\"groups\": {\"w\": {\"slice\": \"a//b\"}}}",
                 "groups.w.slice: 'a//b' is not a systemd-style name");
    assert_error("{\"groups\": {\"w\": {\"slice\": 3}}}", "groups.w.slice: expected a string");
    assert_error("{\"groups\": {\"memctld\": {}}}", "groups.memctld: 'memctld' is not a group name");
    assert_error("{\"groups\": {\"web\": []}}", "groups.web: expected an object, got an array");
    assert_error("{\"groups\": {\"w\": {\"prefer\": {\"comm\": [\"a-name-longer-than-15\"]}}}}",
                 "groups.w.prefer.comm[0]: 'a-name-longer-than-15' is not a process name");
    assert_error("{\"groups\": {\"w\": {\"prefer\": {\"comm\": [1]}}}}",
                 "groups.w.prefer.comm[0]: expected a string");
    assert_error("{\"groups\": {\"w\": {\"avoid\": {\"pid\": [1]}}}}", "groups.w.avoid.pid: unknown key");
    assert_error("{\"groups\": {\"w\": {\"avoid\": {\"cgroup\": [\"../up\"]}}}}",
                 "groups.w.avoid.cgroup[0]: '../up' is not a group name");
    assert_error("{\"groups\": {\"w\": {\"stall_budget_pct\": 101}}}",
                 "groups.w.stall_budget_pct: 101 is out of range");
    assert_error("{\"daemon\": {\"root\": \"relative\"}}", "daemon.root: 'relative' is not an absolute path");
    assert_error("{\"daemon\": {\"reserve\": \"max\"}}", "daemon.reserve: 'max' is not allowed here");
    assert_error("{\"daemon\": {\"window_ms\": 1}}", "daemon.window_ms: 1 is out of range (5-10000)");
    assert_error("{\"daemon\": {\"metrics_address\": \"localhost\"}}",
                 "daemon.metrics_address: 'localhost' is not");
    assert_error("{\"daemon\": {\"metrics_address\": \"1.2.3.4:0\"}}", "daemon.metrics_address");
    assert_error("{\"daemon\": {\"metrics_address\": \"::1:80\"}}", "daemon.metrics_address");
    assert_error("{\"daemon\": {\"metrics_address\": \"localhost:80\"}}", "a numeric IPv4 address");
    assert_error("{\"daemon\": {\"metrics_address\": \"[zz]:80\"}}", "daemon.metrics_address");
    assert_error("{\"daemon\": {\"sockets\": 1}}", "daemon.sockets: unknown key");
    assert_error("{\"defaults\": {\"progress_floor\": 0}}", "defaults.progress_floor: must be between");
    assert_error("{\"host\": {\"available_min\": \"60%\"}}", "host.available_min: '60%': a percentage");
    assert_error("{\"host\": {\"available_min\": 0}}", "host.available_min: must not be 0");
    assert_error("{\"host\": {\"enabled\": \"yes\"}}", "host.enabled: expected true or false");
    assert_error("{\"host\": {\"stall_seconds\": 3601}}",
                 "host.stall_seconds: 3601 is out of range (0-3600)");
    assert_error("[1, 2]", "test.json: expected an object, got an array");
    assert_error("{\"groups\": {}}\n{}", "test.json: line 2: not valid JSON");
    assert_error("{\n\"groups\": {,}\n}", "test.json: line 2: not valid JSON");
    assert_error("{\"groups\": {\"w\": {}}", "not valid JSON: unexpected end of file");
    assert_error("{\"groups\": {\"w\": {\"min\": \"2G\", \"low\": \"1G\"}}}",
                 "groups.w.min: must keep min <= low");
    assert_error("{\"groups\": {\"w\": {\"limit\": \"1G\", \"max\": \"1G\"}}}",
                 "groups.w.max: limit and max exclude each other");
    assert_error("{\"groups\": {\"p\": {\"min\": \"1G\"}, \"p/a\": {\"min\": \"600M\"}, \"p/b\": {\"min\": "
                 "\"600M\"}}}",
                 "groups.p/b.min: the children's min add up to more than the parent's min");
    MemctlHostConfig hc;
    memctl_host_config_default(&hc);
    (void)hc;
}

/* What json-c takes silently is an error that names the place: a key given twice (json-c keeps the
 * last), "\u0000" (it cuts the string there), text that is not UTF-8, a size string longer than the
 * parser reads (it was cut to 63 characters: "000...0001G" became 1 byte), signs in a port or a
 * percentage, strings in single quotes, raw control characters in a string. */
static void test_silent_misreads(void)
{
    assert_error("{\"groups\": {\"w\": {\"limit\": \"1G\", \"limit\": \"2G\"}}}",
                 "test.json: groups.w.limit: line 1: the key is given twice in one object");
    assert_error("{\"groups\": {\"w\": {\"limit\": \"1G\", \"lim\\u0069t\": \"2G\"}}}",
                 "groups.w.limit: line 1: the key is given twice");
    assert_error("{\"groups\": {\"w\": {},\n \"w\": {\"limit\": \"1G\"}}}",
                 "groups.w: line 2: the key is given twice");
    assert_error("{\"groups\": {}, \"groups\": {\"w\": {}}}",
                 "test.json: groups: line 1: the key is given twice");
    assert_error("{\"groups\": {\"w\\u0000x\": {}}}", "groups: line 1: \"\\u0000\" in a string or a key");
    assert_error("{\"groups\": {\"w\": {\"slice\": \"a\\u0000b.slice\"}}}",
                 "groups.w.slice: line 1: \"\\u0000\"");
    assert_error("{\"groups\": {\"w\xff\": {}}}", "not valid JSON");
    /* json-c takes single-quoted keys and raw control characters in strict mode; RFC 8259 does not. The
     * scan once looped for ever on a single-quoted key (fuzz-oci found it). */
    assert_error("{\"groups\": {'w': {}}}",
                 "test.json: groups: line 1: not valid JSON: a string or a key must be in double quotes");
    assert_error("{\"groups\": {\"w\": {\"slice\": 'a.slice'}}}", "line 1: not valid JSON");
    assert_error("[8, {'x': \"]\"}, [1, 2]]", "not valid JSON: a string or a key must be in double quotes");
    assert_error("{\"groups\": {\"w\x11\": {}}}", "groups: line 1: not valid JSON: a control character");
    g_autofree char *zeros = g_strnfill(62, '0');
    g_autofree char *long_size = g_strdup_printf("{\"groups\": {\"w\": {\"limit\": \"%s1G\"}}}", zeros);
    assert_error(long_size,
                 "groups.w.limit: '00000000000000000000...' is not a size (longer than 63 characters)");
    assert_error("{\"daemon\": {\"metrics_address\": \"127.0.0.1:+80\"}}", "daemon.metrics_address");
    assert_error("{\"daemon\": {\"metrics_address\": \"127.0.0.1: 80\"}}", "daemon.metrics_address");
    assert_error("{\"host\": {\"available_min\": \"+10%\"}}", "host.available_min: '+10%': a percentage");
    /* the same key in different objects is fine, and "\\u0000" (an escaped backslash) is text */
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_autofree char *err =
            load(&p, "ok.json",
                 "{\"groups\": {\"a\": {\"limit\": \"1G\"}, \"b\": {\"limit\": \"1G\", \"slice\": "
                 "\"x\\\\u0000.slice\"}}}");
    g_assert_null(err);
}

static void test_accepts(void)
{
    const char *ok[] = {
            "{\"daemon\": {\"metrics_address\": \"[::1]:9750\"}}",
            "{\"daemon\": {\"metrics_address\": \"\"}}",
            "{\"host\": {\"available_min\": \"128M\"}}",
            "{\"groups\": {\"p\": {\"min\": \"1G\"}, \"p/a\": {\"min\": \"500M\"}, \"p/b\": {\"min\": "
            "\"500M\"},"
            " \"p/b/c\": {\"min\": \"500M\"}}}",
            "{\"groups\": {\"t/a\": {\"limit\": 1073741824, \"headroom\": \"10M\", \"high\": \"900M\"}}}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        _cleanup_policy_ MemctlPolicy p;
        memctl_policy_init(&p);
        g_autofree char *err = load(&p, "ok.json", ok[i]);
        if (err)
            g_error("%s: %s", ok[i], err);
    }
}

/* Drop-ins overlay key by key; lists are replaced whole; errors name the file that set the key. */
static void test_merge(void)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_assert_null(load(&p, "memctld.json",
                       "{\"daemon\": {\"reserve\": \"32M\"}, \"groups\": {\"web\": {\"limit\": \"1G\", "
                       "\"low\": \"100M\","
                       " \"prefer\": {\"comm\": [\"a\", \"b\"]}}}}"));
    g_assert_null(
            load(&p, "policy.d/10-web.json",
                 "{\"groups\": {\"web\": {\"limit\": \"2G\", \"prefer\": {\"comm\": [\"c\"]}, \"slice\": "
                 "\"machines.slice/web.scope\"}, \"db\": {}}}"));
    g_assert_cmpuint(p.reserve, ==, 32 * MiB);
    const MemctlGroupPolicy *web = memctl_policy_group(&p, "web");
    g_assert_cmpuint(web->limits.limit, ==, 2048 * MiB);
    g_assert_cmpuint(web->limits.low, ==, 100 * MiB);
    g_assert_cmpuint(web->prefer.n_comm, ==, 1);
    g_assert_cmpstr(web->prefer.comm[0], ==, "c");
    g_assert_cmpstr(web->slice, ==, "machines.slice/web.scope");
    g_assert_cmpstr(memctl_policy_group(&p, "db")->slice, ==, "");
    g_assert_cmpuint(p.n_groups, ==, 2);

    /* A broken document changes nothing. */
    g_autofree char *err =
            load(&p, "policy.d/20-bad.json",
                 "{\"daemon\": {\"reserve\": \"64M\"}, \"groups\": {\"web\": {\"limit\": \"3G\"},"
                 " \"new\": {}, \"zzz\": {\"limit\": \"x\"}}}");
    g_assert_nonnull(err);
    g_assert_true(strstr(err, "policy.d/20-bad.json: groups.zzz.limit") != NULL);
    g_assert_cmpuint(p.reserve, ==, 32 * MiB);
    g_assert_cmpuint(memctl_policy_group(&p, "web")->limits.limit, ==, 2048 * MiB);
    g_assert_null(memctl_policy_group(&p, "new"));
    g_assert_cmpuint(p.n_groups, ==, 2);
    g_assert_cmpuint(p.n_files, ==, 2);

    /* A conflict only the merge shows names the file that set the key at fault. */
    MemctlPolicyError e = {0};
    g_assert_cmpint(
            memctl_policy_add(&p, "policy.d/30-max.json", "{\"groups\": {\"web\": {\"max\": \"1G\"}}}", &e),
            ==, 0);
    g_assert_cmpint(memctl_policy_check(&p, &e), ==, -EINVAL);
    g_assert_cmpstr(e.file, ==, "policy.d/30-max.json");
    g_assert_cmpstr(e.path, ==, "groups.web.max");
    g_assert_true(strstr(e.message, "limit and max") != NULL);
    /* and one that another file set: the drop-in raises low above the limit memctld.json's high */
    _cleanup_policy_ MemctlPolicy q;
    memctl_policy_init(&q);
    g_assert_null(load(&q, "memctld.json", "{\"groups\": {\"w\": {\"high\": \"1G\", \"low\": \"100M\"}}}"));
    g_assert_cmpint(memctl_policy_add(&q, "policy.d/x.json", "{\"groups\": {\"w\": {\"low\": \"2G\"}}}", &e),
                    ==, 0);
    g_assert_cmpint(memctl_policy_check(&q, &e), ==, -EINVAL);
    g_assert_cmpstr(e.file, ==, "policy.d/x.json");
    g_assert_cmpstr(e.path, ==, "groups.w.low");
}

static void test_same_extras(void)
{
    _cleanup_policy_ MemctlPolicy a, b;
    memctl_policy_init(&a);
    memctl_policy_init(&b);
    g_assert_null(
            load(&a, "a", "{\"groups\": {\"w\": {\"limit\": \"1G\", \"avoid\": {\"comm\": [\"x\"]}}}}"));
    g_assert_null(
            load(&b, "b", "{\"groups\": {\"w\": {\"limit\": \"2G\", \"avoid\": {\"comm\": [\"x\"]}}}}"));
    g_assert_true(memctl_group_policy_same_extras(&a.groups[0], &b.groups[0]));
    g_assert_null(load(&b, "c", "{\"groups\": {\"w\": {\"stall_windows\": 5}}}"));
    g_assert_false(memctl_group_policy_same_extras(&a.groups[0], &b.groups[0]));
    /* the pre-kill executable is an extra (a reload reports it); the timeout is a limit */
    _cleanup_policy_ MemctlPolicy c, e;
    memctl_policy_init(&c);
    memctl_policy_init(&e);
    g_assert_null(load(&c, "c", "{\"groups\": {\"w\": {\"prekill_timeout\": 2500}}}"));
    g_assert_null(
            load(&e, "e", "{\"groups\": {\"w\": {\"prekill_timeout\": \"2s\", \"prekill_exec\": \"/h\"}}}"));
    g_assert_cmpuint(c.groups[0].limits.prekill_timeout_ms, ==, 2500);
    g_assert_cmpuint(e.groups[0].limits.prekill_timeout_ms, ==, 2000);
    g_assert_true(memctl_limits_has(&e.groups[0].limits, MEMCTL_KEY_PREKILL_TIMEOUT));
    g_assert_cmpstr(e.groups[0].prekill_exec, ==, "/h");
    g_assert_false(memctl_group_policy_same_extras(&c.groups[0], &e.groups[0]));
    /* the reclaim keys are limits too */
    _cleanup_policy_ MemctlPolicy r;
    memctl_policy_init(&r);
    g_assert_null(load(&r, "r",
                       "{\"groups\": {\"w\": {\"reclaim\": \"auto\", \"reclaim_pressure\": \"0.5%\", "
                       "\"reclaim_floor\": \"32M\"}}}"));
    g_assert_true(r.groups[0].limits.reclaim_auto);
    g_assert_cmpuint(r.groups[0].limits.reclaim_pressure_ppm, ==, 5000);
    g_assert_cmpuint(r.groups[0].limits.reclaim_floor, ==, 32u << 20);
    g_assert_true(memctl_limits_has(&r.groups[0].limits, MEMCTL_KEY_RECLAIM));
    g_assert_null(load(&r, "s", "{\"groups\": {\"w\": {\"reclaim_pressure\": 2000}}}"));
    g_assert_cmpuint(r.groups[0].limits.reclaim_pressure_ppm, ==, 2000);
}

/* daemon.critical_claims: which groups (by name or slice) may claim critical status from metadata. */
static void test_claims(void)
{
    _cleanup_policy_ MemctlPolicy p;
    memctl_policy_init(&p);
    g_assert_false(memctl_policy_claim_allowed(&p, "db", NULL)); /* none by default */
    g_autofree char *err =
            load(&p, "claims.json",
                 "{\"daemon\": {\"critical_claims\": [\"pods/db-*\", \"machines.slice/crit-*.scope\"]}}");
    g_assert_null(err);
    g_assert_true(p.set & MEMCTL_DAEMON_CLAIMS);
    g_assert_true(memctl_policy_claim_allowed(&p, "pods/db-1", NULL));
    g_assert_false(memctl_policy_claim_allowed(&p, "pods/web-1", NULL));
    g_assert_false(memctl_policy_claim_allowed(&p, "pods/db-1/sub", NULL)); /* '*' stays in one level */
    g_assert_false(memctl_policy_claim_allowed(&p, "other", "machines.slice/web.scope"));
    g_assert_true(memctl_policy_claim_allowed(&p, "other", "machines.slice/crit-7.scope"));
    assert_error("{\"daemon\": {\"critical_claims\": \"db\"}}", "daemon.critical_claims: expected an array");
    assert_error("{\"daemon\": {\"critical_claims\": [\"\"]}}",
                 "daemon.critical_claims[0]: expected a pattern");
    assert_error("{\"daemon\": {\"critical_claims\": [1]}}", "daemon.critical_claims[0]: expected a string");
    assert_error("{\"daemon\": {\"critical_claims\": [\"a\\nb\"]}}", "daemon.critical_claims[0]: control");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/empty", test_empty);
    g_test_add_func("/config/full", test_full);
    g_test_add_func("/config/errors", test_errors_name_the_path);
    g_test_add_func("/config/accepts", test_accepts);
    g_test_add_func("/config/silent-misreads", test_silent_misreads);
    g_test_add_func("/config/claims", test_claims);
    g_test_add_func("/config/merge", test_merge);
    g_test_add_func("/config/same-extras", test_same_extras);
    return g_test_run();
}
