/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding the delegated root: /proc/self/cgroup's text, and systemd's delegation mark on a directory
 * (user.delegate, as systemd 251+ writes it; a temporary directory stands in for the cgroup: this
 * is parsing and xattr reading only, the real thing runs under systemd in the VM). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/xattr.h>

#include "daemon/group/cgroup.h"
#include "include/memctl/memctl.h"

/* The parser is kernel/cgpath.c's (tests/unit/test-name.c): here its copy out, and nothing on failure. */
static void test_membership(void)
{
    g_autofree char *p = NULL;
    g_assert_cmpint(
            memctl_cgroup_parse_membership("1:name=systemd:/x\n0::/system.slice/memctld.service\n", &p), ==,
            0);
    g_assert_cmpstr(p, ==, "/system.slice/memctld.service");
    char *keep = (char *)"untouched";
    g_assert_cmpint(memctl_cgroup_parse_membership("0::/a/../b\n", &keep), ==, -EINVAL);
    g_assert_cmpstr(keep, ==, "untouched");
}

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *f = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(f, text, -1, NULL));
}

static void test_delegated_root(void)
{
    g_autofree char *tmp = g_dir_make_tmp("memctl-cgroup-XXXXXX", NULL);
    g_assert_nonnull(tmp);
    g_autofree char *mount = g_build_filename(tmp, "cgroup", NULL);
    g_autofree char *svc = g_build_filename(mount, "system.slice", "memctld.service", NULL);
    g_autofree char *leaf = g_build_filename(svc, MEMCTL_SELF_LEAF, NULL);
    g_autofree char *proc = g_build_filename(tmp, "proc", NULL);
    g_autofree char *self = g_build_filename(proc, "self", NULL);
    g_assert_cmpint(g_mkdir_with_parents(leaf, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(self, 0755), ==, 0);
    write_file(self, "cgroup", "0::/system.slice/memctld.service\n");

    g_autofree char *where = NULL, *root = NULL;
    g_assert_cmpint(memctl_cgroup_self(mount, proc, &where), ==, 0);
    g_assert_cmpstr(where, ==, svc);

    /* not marked: not ours to manage */
    char *keep = (char *)"untouched";
    g_assert_cmpint(memctl_cgroup_delegated_root(mount, svc, MEMCTL_SELF_LEAF, &keep), ==, -ENXIO);
    g_assert_cmpstr(keep, ==, "untouched");
    g_assert_false(memctl_cgroup_is_delegated(svc));

    if (setxattr(svc, "user.delegate", "1", 1, 0) < 0) {
        g_test_skip("the temporary directory's file system has no user xattrs: the delegation mark "
                    "cannot be tested here (the systemd test in the VM covers it)");
        goto out;
    }
    g_assert_true(memctl_cgroup_is_delegated(svc));
    g_assert_cmpint(memctl_cgroup_delegated_root(mount, svc, MEMCTL_SELF_LEAF, &root), ==, 0);
    g_assert_cmpstr(root, ==, svc);
    g_clear_pointer(&root, g_free);
    /* restarted in place: already in its leaf, the parent is the root */
    g_assert_cmpint(memctl_cgroup_delegated_root(mount, leaf, MEMCTL_SELF_LEAF, &root), ==, 0);
    g_assert_cmpstr(root, ==, svc);
    g_clear_pointer(&root, g_free);
    /* a value other than "1" is no mark; neither is the mount itself */
    g_assert_cmpint(setxattr(svc, "user.delegate", "0", 1, 0), ==, 0);
    g_assert_false(memctl_cgroup_is_delegated(svc));
    g_assert_cmpint(memctl_cgroup_delegated_root(mount, mount, MEMCTL_SELF_LEAF, &keep), ==, -ENXIO);
    g_assert_cmpstr(keep, ==, "untouched");
out:;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cgroup/membership", test_membership);
    g_test_add_func("/cgroup/delegated-root", test_delegated_root);
    return g_test_run();
}
