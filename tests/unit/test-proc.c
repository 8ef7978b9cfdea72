/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel/proc.c and kernel/cgpath.c's memctl_cgpath_within: /proc text from hostile processes. */
#include <errno.h>
#include <glib.h>

#include "kernel/cgpath.h"
#include "kernel/proc.h"

static const char status[] = "Name:\tmemhog\n"
                             "Umask:\t0022\n"
                             "State:\tS (sleeping)\n"
                             "Tgid:\t4242\n"
                             "Ngid:\t0\n"
                             "Pid:\t4243\n"
                             "PPid:\t1\n"
                             "Uid:\t1000\t1000\t1000\t1000\n";

static void test_status(void)
{
    uint64_t v = 7;
    g_assert_cmpint(memctl_proc_status_u64(status, "Tgid", &v), ==, 0);
    g_assert_cmpuint(v, ==, 4242);
    g_assert_cmpint(memctl_proc_status_u64(status, "Pid", &v), ==, 0);
    g_assert_cmpuint(v, ==, 4243);
    g_assert_cmpint(memctl_proc_status_u64(status, "Uid", &v), ==, 0);
    g_assert_cmpuint(v, ==, 1000);
    v = 7;
    g_assert_cmpint(memctl_proc_status_u64(status, "VmRSS", &v), ==, -ENOENT);
    g_assert_cmpint(memctl_proc_status_u64(status, "Name", &v), ==, -EINVAL);
    g_assert_cmpuint(v, ==, 7); /* untouched */
    /* a process named to look like a field: only a line's start counts */
    static const char sneaky[] = "Name:\tx Tgid:\t1\nTgid:\t99\n";
    g_assert_cmpint(memctl_proc_status_u64(sneaky, "Tgid", &v), ==, 0);
    g_assert_cmpuint(v, ==, 99);
    g_assert_cmpint(memctl_proc_status_u64("Tgid:\t99999999999999999999999\n", "Tgid", &v), ==, -EINVAL);
    g_assert_cmpint(memctl_proc_status_u64("", "Tgid", &v), ==, -ENOENT);
}

static void test_stat(void)
{
    uint64_t flags = 1, start = 1;
    /* 52 fields of a kernel thread (kthreadd) on 6.1 */
    static const char kthread[] =
            "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 10 0 0 "
            "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 "
            "0 0 0 0\n";
    g_assert_cmpint(memctl_proc_stat(kthread, &flags, &start), ==, 0);
    g_assert_true(flags & MEMCTL_PF_KTHREAD);
    g_assert_cmpuint(start, ==, 10);
    /* a name with spaces and parentheses in it */
    static const char odd[] = "77 (a) S 1 (b)) R 1 77 77 34816 77 4194560 100 0 0 0 3 1 0 0 20 0 1 0 123456 "
                              "2000000 300 18446744073709551615\n";
    g_assert_cmpint(memctl_proc_stat(odd, &flags, &start), ==, 0);
    g_assert_false(flags & MEMCTL_PF_KTHREAD);
    g_assert_cmpuint(flags, ==, 4194560);
    g_assert_cmpuint(start, ==, 123456);
    flags = start = 5;
    g_assert_cmpint(memctl_proc_stat("77 (short) S 1 2 3\n", &flags, &start), ==, -EINVAL);
    g_assert_cmpint(memctl_proc_stat("no parenthesis", &flags, &start), ==, -EINVAL);
    g_assert_cmpint(memctl_proc_stat("", &flags, &start), ==, -EINVAL);
    g_assert_cmpuint(flags, ==, 5);
    g_assert_cmpuint(start, ==, 5);
}

static void test_fdinfo(void)
{
    int32_t pid = 7;
    g_assert_cmpint(
            memctl_proc_fdinfo_pid(
                    "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nPid:\t4242\nNSpid:\t4242\n", &pid),
            ==, 0);
    g_assert_cmpint(pid, ==, 4242);
    pid = 7;
    g_assert_cmpint(memctl_proc_fdinfo_pid("pos:\t0\nPid:\t-1\nNSpid:\t-1\n", &pid), ==, -ESRCH);
    g_assert_cmpint(memctl_proc_fdinfo_pid("pos:\t0\nflags:\t02\n", &pid), ==, -ENOENT);
    g_assert_cmpint(memctl_proc_fdinfo_pid("Pid:\t0\n", &pid), ==, -EINVAL);
    g_assert_cmpint(memctl_proc_fdinfo_pid("Pid:\t99999999999\n", &pid), ==, -EINVAL);
    g_assert_cmpint(pid, ==, 7);
}

static void test_within(void)
{
    const char *p = "/memctl.slice/web/inner";
    g_assert_true(memctl_cgpath_within(p, 17, "/memctl.slice/web"));
    g_assert_true(memctl_cgpath_within(p, 23, "/memctl.slice/web"));
    g_assert_false(memctl_cgpath_within("/memctl.slice/webby", 19, "/memctl.slice/web"));
    g_assert_false(memctl_cgpath_within("/memctl.slice", 13, "/memctl.slice/web"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proc/status", test_status);
    g_test_add_func("/proc/stat", test_stat);
    g_test_add_func("/proc/fdinfo", test_fdinfo);
    g_test_add_func("/proc/cgpath-within", test_within);
    return g_test_run();
}
