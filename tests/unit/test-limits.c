/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>

#include "policy/limits.h"
#include "basic/size.h"

#define MiB (1024ull * 1024)

static void test_set_keys(void)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_cmpuint(l.priority, ==, MEMCTL_PRIORITY_DEFAULT);
    g_assert_cmpint(memctl_limits_set(&l, "min", "16M"), ==, 0);
    g_assert_cmpint(memctl_limits_set(&l, "low", "32M"), ==, 0);
    g_assert_cmpint(memctl_limits_set(&l, "swap_max", "max"), ==, 0);
    g_assert_cmpint(memctl_limits_set(&l, "oom_group", "yes"), ==, 0);
    g_assert_cmpint(memctl_limits_set(&l, "priority", "7"), ==, 0);
    g_assert_cmpuint(l.min, ==, 16 * MiB);
    g_assert_cmpuint(l.low, ==, 32 * MiB);
    g_assert_cmpuint(l.swap_max, ==, MEMCTL_SIZE_MAX);
    g_assert_true(l.oom_group);
    g_assert_cmpuint(l.priority, ==, 7);
    g_assert_true(memctl_limits_has(&l, MEMCTL_KEY_MIN));
    g_assert_false(memctl_limits_has(&l, MEMCTL_KEY_MAX));

    MemctlLimits before = l;
    g_assert_cmpint(memctl_limits_set(&l, "mni", "1M"), ==, -ENOENT);
    g_assert_cmpint(memctl_limits_set(&l, "min", "1Q"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "oom_group", "maybe"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "priority", "0"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "priority", "101"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "priority", "-3"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "limit", "0"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "limit", "max"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "headroom", "max"), ==, -ERANGE);
    g_assert_cmpmem(&l, sizeof(l), &before, sizeof(before)); /* untouched by every failure */
}

static void test_parse_list(void)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_cmpint(memctl_limits_parse_list("limit=128M,oom_group=1,min=8M", &l, NULL, NULL), ==, 0);
    g_assert_cmpuint(l.limit, ==, 128 * MiB);
    g_assert_cmpuint(l.min, ==, 8 * MiB);
    g_assert_true(l.oom_group);

    MemctlLimits before = l;
    const char *spec = "low=4M,bogus=1,high=9M";
    const char *bad = NULL;
    size_t bad_len = 0;
    g_assert_cmpint(memctl_limits_parse_list(spec, &l, &bad, &bad_len), ==, -ENOENT);
    g_assert_true(bad == spec + 7);
    g_assert_cmpuint(bad_len, ==, 5);
    g_assert_cmpmem(&l, sizeof(l), &before, sizeof(before)); /* nothing half-applied */

    g_assert_cmpint(memctl_limits_parse_list("low", &l, NULL, NULL), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_parse_list("=4M", &l, NULL, NULL), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_parse_list("low=4M,", &l, NULL, NULL), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_parse_list("low=", &l, NULL, NULL), ==, -EINVAL);
    g_assert_cmpmem(&l, sizeof(l), &before, sizeof(before));
    g_assert_cmpint(memctl_limits_parse_list("", &l, NULL, NULL), ==, 0); /* no keys: no change */
}

static MemctlFileValues resolve_ok(const char *spec)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_cmpint(memctl_limits_parse_list(spec, &l, NULL, NULL), ==, 0);
    MemctlFileValues v;
    MemctlKey bad = _MEMCTL_KEY_COUNT;
    int r = memctl_limits_resolve(&l, &v, &bad);
    if (r < 0)
        g_error("'%s' rejected at key %s", spec, memctl_key_name(bad));
    return v;
}

static MemctlKey resolve_bad(const char *spec)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_cmpint(memctl_limits_parse_list(spec, &l, NULL, NULL), ==, 0);
    MemctlFileValues v = {.set = 0xdead};
    MemctlKey bad = _MEMCTL_KEY_COUNT;
    g_assert_cmpint(memctl_limits_resolve(&l, &v, &bad), ==, -EINVAL);
    g_assert_cmpuint(v.set, ==, 0xdead);
    return bad;
}

static void test_resolve_limit(void)
{
    /* 128M: headroom 5% = 6.4M */
    MemctlFileValues v = resolve_ok("limit=128M");
    g_assert_cmpuint(v.set, ==, (1u << MEMCTL_FILE_MAX) | (1u << MEMCTL_FILE_HIGH));
    g_assert_cmpuint(v.value[MEMCTL_FILE_MAX], ==, 128 * MiB);
    g_assert_cmpuint(v.value[MEMCTL_FILE_HIGH], ==, 128 * MiB - 128 * MiB / 20);

    /* 4G: 5% would be 204.8M, capped at 64M */
    v = resolve_ok("limit=4G");
    g_assert_cmpuint(v.value[MEMCTL_FILE_HIGH], ==, 4096 * MiB - 64 * MiB);
    g_assert_cmpuint(memctl_limits_default_headroom(4096 * MiB), ==, MEMCTL_HEADROOM_CAP);

    v = resolve_ok("limit=100M,headroom=10M");
    g_assert_cmpuint(v.value[MEMCTL_FILE_HIGH], ==, 90 * MiB);
    v = resolve_ok("limit=100M,high=70M");
    g_assert_cmpuint(v.value[MEMCTL_FILE_HIGH], ==, 70 * MiB);
    g_assert_cmpuint(v.value[MEMCTL_FILE_MAX], ==, 100 * MiB);

    v = resolve_ok("min=1M,low=2M,high=3M,max=4M,swap_max=0,oom_group=1");
    g_assert_cmpuint(v.set, ==, (1u << _MEMCTL_FILE_COUNT) - 1);
    g_assert_cmpuint(v.value[MEMCTL_FILE_OOM_GROUP], ==, 1);
    g_assert_cmpuint(v.value[MEMCTL_FILE_SWAP_MAX], ==, 0);
    g_assert_cmpstr(memctl_file_name(MEMCTL_FILE_OOM_GROUP), ==, "memory.oom.group");
    g_assert_cmpstr(memctl_file_name(MEMCTL_FILE_SWAP_MAX), ==, "memory.swap.max");
}

static void test_resolve_rejects(void)
{
    g_assert_cmpint(resolve_bad("limit=100M,max=200M"), ==, MEMCTL_KEY_MAX);
    g_assert_cmpint(resolve_bad("headroom=1M"), ==, MEMCTL_KEY_HEADROOM);
    g_assert_cmpint(resolve_bad("limit=10M,headroom=10M"), ==, MEMCTL_KEY_HEADROOM);
    g_assert_cmpint(resolve_bad("limit=100M,high=101M"), ==, MEMCTL_KEY_HIGH);
    g_assert_cmpint(resolve_bad("min=5M,max=4M"), ==, MEMCTL_KEY_MIN);
    g_assert_cmpint(resolve_bad("min=5M,low=4M"), ==, MEMCTL_KEY_MIN);
    /* low 0 (as the kernel's default reads back) is no protection, not a bound on min */
    MemctlFileValues z = resolve_ok("min=4M,low=0,limit=48M");
    g_assert_cmpuint(z.value[MEMCTL_FILE_MIN], ==, 4 * MiB);
    g_assert_cmpint(resolve_bad("low=5M,high=4M"), ==, MEMCTL_KEY_LOW);
    g_assert_cmpint(resolve_bad("high=5M,max=4M"), ==, MEMCTL_KEY_HIGH);
    g_assert_cmpint(resolve_bad("min=200M,limit=100M"), ==, MEMCTL_KEY_MIN);
    /* "max" is allowed everywhere it reads as "no limit": min=max is the whole parent */
    resolve_ok("min=max");
    resolve_ok("high=max,max=max");
}

static void test_merge(void)
{
    MemctlLimits base, upd;
    memctl_limits_init(&base);
    memctl_limits_init(&upd);
    g_assert_cmpint(memctl_limits_parse_list("limit=128M,min=8M,priority=10", &base, NULL, NULL), ==, 0);
    g_assert_cmpint(memctl_limits_parse_list("min=16M,oom_group=true", &upd, NULL, NULL), ==, 0);
    memctl_limits_merge(&base, &upd);
    g_assert_cmpuint(base.limit, ==, 128 * MiB);
    g_assert_cmpuint(base.min, ==, 16 * MiB);
    g_assert_true(base.oom_group);
    g_assert_cmpuint(base.priority, ==, 10); /* not in the update: kept */
}

static void test_children_min(void)
{
    const uint64_t kids[] = {10 * MiB, 20 * MiB, 30 * MiB};
    g_assert_cmpint(memctl_limits_check_children_min(60 * MiB, kids, 3), ==, 0);
    g_assert_cmpint(memctl_limits_check_children_min(60 * MiB - 1, kids, 3), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_check_children_min(0, kids, 0), ==, 0);
    g_assert_cmpint(memctl_limits_check_children_min(MEMCTL_SIZE_MAX, kids, 3), ==, 0);
    const uint64_t huge[] = {UINT64_MAX - 1, 2};
    g_assert_cmpint(memctl_limits_check_children_min(UINT64_MAX - 1, huge, 2), ==, -ERANGE);
}

/* get/put: the raw value of a key, round trip, and put marks the key given. */
static void test_get_put(void)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    memctl_limits_put(&l, MEMCTL_KEY_LIMIT, 256 << 20);
    memctl_limits_put(&l, MEMCTL_KEY_OOM_GROUP, 1);
    memctl_limits_put(&l, MEMCTL_KEY_PRIORITY, 7);
    memctl_limits_put(&l, MEMCTL_KEY_SWAP_MAX, UINT64_MAX);
    g_assert_true(memctl_limits_has(&l, MEMCTL_KEY_LIMIT));
    g_assert_false(memctl_limits_has(&l, MEMCTL_KEY_MAX));
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_LIMIT), ==, 256 << 20);
    g_assert_cmpuint(l.limit, ==, 256 << 20);
    g_assert_true(l.oom_group);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_OOM_GROUP), ==, 1);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_PRIORITY), ==, 7);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_SWAP_MAX), ==, UINT64_MAX);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_MIN), ==, 0);
}

/* prekill_timeout: milliseconds, "ms" or "s", at most 10 s; it writes no file. */
static void test_prekill_timeout(void)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "2s"), ==, 0);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_PREKILL_TIMEOUT), ==, 2000);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "750ms"), ==, 0);
    g_assert_cmpuint(l.prekill_timeout_ms, ==, 750);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "10000"), ==, 0);
    g_assert_cmpuint(l.prekill_timeout_ms, ==, 10000);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "0"), ==, 0);
    g_assert_cmpuint(l.prekill_timeout_ms, ==, 0);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "11s"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "10001"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "99999999999999999999"), ==, -ERANGE);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "2 s"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "s"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", "-1"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "prekill_timeout", ""), ==, -EINVAL);
    g_assert_cmpuint(l.prekill_timeout_ms, ==, 0); /* untouched by the failures */
    MemctlFileValues v;
    g_assert_cmpint(memctl_limits_resolve(&l, &v, NULL), ==, 0);
    g_assert_cmpuint(v.set, ==, 0);
}

static void test_as_kernel(void)
{
    g_assert_cmpuint(memctl_file_value_as_kernel(MEMCTL_FILE_HIGH, 63753421, 4096), ==, 63750144);
    g_assert_cmpuint(memctl_file_value_as_kernel(MEMCTL_FILE_MAX, 64 << 20, 4096), ==, 64 << 20);
    g_assert_cmpuint(memctl_file_value_as_kernel(MEMCTL_FILE_MIN, 4095, 4096), ==, 0);
    g_assert_cmpuint(memctl_file_value_as_kernel(MEMCTL_FILE_SWAP_MAX, UINT64_MAX, 4096), ==, UINT64_MAX);
    g_assert_cmpuint(memctl_file_value_as_kernel(MEMCTL_FILE_OOM_GROUP, 7, 4096), ==, 1);
}

static void test_values_equal(void)
{
    MemctlFileValues a = {0}, b = {0};
    a.set = b.set = 1u << MEMCTL_FILE_MAX;
    a.value[MEMCTL_FILE_MAX] = b.value[MEMCTL_FILE_MAX] = 64 << 20;
    a.value[MEMCTL_FILE_MIN] = 7; /* not managed: does not count */
    g_assert_true(memctl_file_values_equal(&a, &b));
    b.value[MEMCTL_FILE_MAX]++;
    g_assert_false(memctl_file_values_equal(&a, &b));
    b.value[MEMCTL_FILE_MAX]--;
    b.set |= 1u << MEMCTL_FILE_MIN;
    g_assert_false(memctl_file_values_equal(&a, &b));
}

/* reclaim: "auto" or "off"; reclaim_pressure: a percentage (three decimals), "ms" a second, or
 * microseconds a second, 0.001%-10%; reclaim_floor: a size, never "max". None writes a file. */
static void test_reclaim_keys(void)
{
    MemctlLimits l;
    memctl_limits_init(&l);
    g_assert_false(l.reclaim_auto);
    g_assert_cmpuint(l.reclaim_pressure_ppm, ==, 1000); /* 0.1% */
    g_assert_cmpint(memctl_limits_set(&l, "reclaim", "auto"), ==, 0);
    g_assert_true(l.reclaim_auto);
    g_assert_cmpint(memctl_limits_set(&l, "reclaim", "on"), ==, -EINVAL);
    g_assert_cmpint(memctl_limits_set(&l, "reclaim", "off"), ==, 0);
    g_assert_false(l.reclaim_auto);
    static const struct {
        const char *text;
        int r;
        uint32_t ppm;
    } cases[] = {
            {"0.1%", 0, 1000},       {"1%", 0, 10000},    {"0.25%", 0, 2500},
            {"0.001%", 0, 10},       {"10%", 0, 100000},  {"0.1000%", 0, 1000},
            {"2ms", 0, 2000},        {"500", 0, 500},     {"10.5%", -ERANGE, 0},
            {"0.0001%", -EINVAL, 0}, {"0%", -ERANGE, 0},  {"5", -ERANGE, 0},
            {"101ms", -ERANGE, 0},   {"1.%", -EINVAL, 0}, {".5%", -EINVAL, 0},
            {"1 %", -EINVAL, 0},     {"%", -EINVAL, 0},   {"", -EINVAL, 0},
            {"-1%", -EINVAL, 0},     {"1s", -EINVAL, 0},  {"99999999999999999999", -ERANGE, 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        MemctlLimits t;
        memctl_limits_init(&t);
        t.reclaim_pressure_ppm = 7;
        g_test_message("reclaim_pressure=%s", cases[i].text);
        g_assert_cmpint(memctl_limits_set(&t, "reclaim_pressure", cases[i].text), ==, cases[i].r);
        g_assert_cmpuint(t.reclaim_pressure_ppm, ==, cases[i].r == 0 ? cases[i].ppm : 7);
        g_assert_cmpint(memctl_limits_has(&t, MEMCTL_KEY_RECLAIM_PRESSURE), ==, cases[i].r == 0);
    }
    g_assert_cmpint(memctl_limits_set(&l, "reclaim_floor", "64M"), ==, 0);
    g_assert_cmpuint(memctl_limits_get(&l, MEMCTL_KEY_RECLAIM_FLOOR), ==, 64u << 20);
    g_assert_cmpint(memctl_limits_set(&l, "reclaim_floor", "max"), ==, -ERANGE);
    MemctlFileValues v;
    g_assert_cmpint(memctl_limits_resolve(&l, &v, NULL), ==, 0);
    g_assert_cmpuint(v.set, ==, 0);
    MemctlLimits m;
    memctl_limits_init(&m);
    memctl_limits_merge(&m, &l);
    g_assert_cmpuint(m.reclaim_floor, ==, 64u << 20);
    memctl_limits_put(&m, MEMCTL_KEY_RECLAIM_PRESSURE, 1); /* clamped into range */
    g_assert_cmpuint(m.reclaim_pressure_ppm, ==, 10);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/limits/set", test_set_keys);
    g_test_add_func("/limits/parse-list", test_parse_list);
    g_test_add_func("/limits/resolve/limit", test_resolve_limit);
    g_test_add_func("/limits/resolve/rejects", test_resolve_rejects);
    g_test_add_func("/limits/merge", test_merge);
    g_test_add_func("/limits/children-min", test_children_min);
    g_test_add_func("/limits/get-put", test_get_put);
    g_test_add_func("/limits/values-equal", test_values_equal);
    g_test_add_func("/limits/as-kernel", test_as_kernel);
    g_test_add_func("/limits/prekill-timeout", test_prekill_timeout);
    g_test_add_func("/limits/reclaim-keys", test_reclaim_keys);
    return g_test_run();
}
