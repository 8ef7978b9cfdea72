/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "include/memctl/memctl.h"
#include "kernel/cgpath.h"
#include "policy/name.h"

static void test_accepts(void)
{
    const char *ok[] = {"web",       "tenants/a",       "a.b",   "x_y-z", "user@1000",
                        "k8s:pod-1", "a/b/c/d/e/f/g/h", "x/..a", "a..",   "a/.b"};
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
        g_assert_cmpint(memctl_group_name_check(ok[i]), ==, 0);
}

static void test_rejects(void)
{
    const struct {
        const char *name;
        int err;
    } bad[] = {
            {"", -EINVAL},
            {"..", -EINVAL},
            {"../etc", -EINVAL},
            {"a/../../b", -EINVAL},
            {"a/./b", -EINVAL},
            {"/abs", -EINVAL},
            {"trailing/", -EINVAL},
            {"a//b", -EINVAL},
            {"sp ace", -EINVAL},
            {"new\nline", -EINVAL},
            {"star*", -EINVAL},
            {"memory.max", -EINVAL},
            {"a/cgroup.procs", -EINVAL},
            {"cpu.weight", -EINVAL},
            {"a/b/c/d/e/f/g/h/i", -ENAMETOOLONG},
            {MEMCTL_SELF_LEAF, -EPERM},
            {MEMCTL_SELF_LEAF "/x", -EPERM},
            {MEMCTL_HOOKS_LEAF, -EPERM},
            {MEMCTL_HOOKS_LEAF "/x", -EPERM},
            {".control", -EPERM}, /* systemd runs ExecReload= there in a delegated cgroup */
            {"..a", -EPERM},
            {".x/y", -EPERM},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (memctl_group_name_check(bad[i].name) != bad[i].err)
            g_error("'%s': expected %d, got %d", bad[i].name, bad[i].err,
                    memctl_group_name_check(bad[i].name));
    }
    g_assert_cmpint(memctl_group_name_check(NULL), ==, -EINVAL);
    char long_name[MEMCTL_GROUP_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    g_assert_cmpint(memctl_group_name_check(long_name), ==, -ENAMETOOLONG);
    long_name[MEMCTL_GROUP_NAME_MAX] = '\0';
    g_assert_cmpint(memctl_group_name_check(long_name), ==, 0);
    /* a nested memctld is fine: only the top-level leaf is reserved */
    g_assert_cmpint(memctl_group_name_check("a/" MEMCTL_SELF_LEAF), ==, 0);
}

static void test_escape(void)
{
    const struct {
        const char *name, *escaped;
    } cases[] = {
            {"web", "web"},
            {"tenants/a", "tenants_2fa"},
            {"k8s:pod-1", "k8s_3apod_2d1"},
            {"a_b.c@d", "a_5fb_2ec_40d"},
            {"", "_"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char buf[64], back[64];
        g_assert_cmpint(memctl_group_name_escape(cases[i].name, buf, sizeof(buf)), ==,
                        (int)strlen(cases[i].escaped));
        g_assert_cmpstr(buf, ==, cases[i].escaped);
        g_assert_cmpint(memctl_group_name_unescape(buf, back, sizeof(back)), ==, (int)strlen(cases[i].name));
        g_assert_cmpstr(back, ==, cases[i].name);
    }
    /* too small a buffer: -ENOBUFS, never a truncated path */
    char tiny[4];
    g_assert_cmpint(memctl_group_name_escape("a/b", tiny, sizeof(tiny)), ==, -ENOBUFS);
    g_assert_cmpint(memctl_group_name_escape("abc", tiny, sizeof(tiny)), ==, 3);
    /* elements escape never writes */
    const char *bad[] = {"_2", "_zz", "_61", "a b", "_00", "_2F"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char out[16];
        g_assert_cmpint(memctl_group_name_unescape(bad[i], out, sizeof(out)), ==, -EINVAL);
    }
}

static void test_slice(void)
{
    const char *ok[] = {"", "machines.slice", "machines.slice/ctr-1.scope", "system.slice/getty@tty1.service",
                        "user.slice/user-1000.slice/app-x\\x2dy.scope"};
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
        g_assert_cmpint(memctl_slice_name_check(ok[i]), ==, 0);
    const char *bad[] = {"/machines.slice", "a/", "a//b", "..", "a/../b", "sp ace", "new\nline", "q\"uote"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(memctl_slice_name_check(bad[i]), ==, -EINVAL);
    char long_name[MEMCTL_SLICE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    g_assert_cmpint(memctl_slice_name_check(long_name), ==, -ENAMETOOLONG);
    long_name[MEMCTL_SLICE_NAME_MAX] = '\0';
    g_assert_cmpint(memctl_slice_name_check(long_name), ==, 0);
}

static void test_problem(void)
{
    g_assert_nonnull(
            strstr(memctl_group_name_problem(memctl_group_name_check(MEMCTL_SELF_LEAF)), "reserved"));
    g_assert_nonnull(strstr(memctl_group_name_problem(memctl_group_name_check("a/b/c/d/e/f/g/h/i")), "deep"));
    g_assert_nonnull(strstr(memctl_group_name_problem(memctl_group_name_check("../etc")), "'..'"));
}

/* /proc/<pid>/cgroup: the unified line, wherever it is, checked; nothing written on failure. */
static void test_membership(void)
{
    const struct {
        const char *text, *want;
    } good[] = {
            /* a hybrid host: v1 controllers first, the unified line last */
            {"12:memory:/system.slice/x.service\n1:name=systemd:/x\n0::/system.slice/memctld.service\n",
             "/system.slice/memctld.service"},
            {"0::/\n", "/"},
            {"0::/a/b", "/a/b"}, /* no final newline */
            {"0::/a/..b/c.\n", "/a/..b/c."},
            {"0::/machine.slice/libpod-1.scope/container\n", "/machine.slice/libpod-1.scope/container"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        const char *p = NULL;
        size_t len = 0;
        g_assert_cmpint(memctl_cgpath_membership(good[i].text, &p, &len), ==, 0);
        g_assert_cmpuint(len, ==, strlen(good[i].want));
        g_assert_true(strncmp(p, good[i].want, len) == 0);
    }
    const struct {
        const char *text;
        int err;
    } bad[] = {
            {"", -ENOENT},
            {"4:memory:/a\n", -ENOENT},
            {"10::/not-unified\n", -ENOENT},
            {"0::relative\n", -EINVAL},
            {"0::\n", -EINVAL},
            {"0::/a/../b\n", -EINVAL},
            {"0::/a/./b\n", -EINVAL},
            {"0::/a/..\n", -EINVAL},
            {"0::/..\n", -EINVAL},
            {"0::/gone (deleted)\n", -EINVAL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *p = "untouched";
        size_t len = 7;
        g_assert_cmpint(memctl_cgpath_membership(bad[i].text, &p, &len), ==, bad[i].err);
        g_assert_cmpstr(p, ==, "untouched");
        g_assert_cmpuint(len, ==, 7);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/name/membership", test_membership);
    g_test_add_func("/name/accepts", test_accepts);
    g_test_add_func("/name/rejects", test_rejects);
    g_test_add_func("/name/escape", test_escape);
    g_test_add_func("/name/problem", test_problem);
    g_test_add_func("/name/slice", test_slice);
    return g_test_run();
}
