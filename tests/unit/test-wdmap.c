/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/core/wdmap.c: the core's inotify watches by watch descriptor. */
#include <errno.h>
#include <glib.h>

#include "daemon/core/wdmap.h"

static void test_basic(void)
{
    MemctlWdMap *m = NULL;
    g_assert_cmpint(memctl_wdmap_new(0, &m), ==, -EINVAL);
    g_assert_cmpint(memctl_wdmap_new(3, &m), ==, 0);
    g_assert_cmpint(memctl_wdmap_get(m, 1), ==, -1);
    g_assert_cmpint(memctl_wdmap_put(m, 0, 1), ==, -EINVAL);
    g_assert_cmpint(memctl_wdmap_put(m, 1, -1), ==, -EINVAL);
    g_assert_cmpint(memctl_wdmap_put(m, 1, 10), ==, 0);
    g_assert_cmpint(memctl_wdmap_put(m, 2, 20), ==, 0);
    g_assert_cmpint(memctl_wdmap_put(m, 1, 11), ==, 0); /* replaced, not a second entry */
    g_assert_cmpuint(memctl_wdmap_count(m), ==, 2);
    g_assert_cmpint(memctl_wdmap_put(m, 3, 30), ==, 0);
    g_assert_cmpint(memctl_wdmap_put(m, 4, 40), ==, -ENOSPC); /* as many as it was made for */
    g_assert_cmpint(memctl_wdmap_get(m, 1), ==, 11);
    g_assert_cmpint(memctl_wdmap_get(m, 3), ==, 30);
    g_assert_cmpint(memctl_wdmap_get(m, 4), ==, -1);
    g_assert_true(memctl_wdmap_remove(m, 2));
    g_assert_false(memctl_wdmap_remove(m, 2));
    g_assert_cmpint(memctl_wdmap_get(m, 2), ==, -1);
    g_assert_cmpint(memctl_wdmap_put(m, 4, 40), ==, 0); /* room again */
    g_assert_cmpint(memctl_wdmap_get(m, 4), ==, 40);
    memctl_wdmap_free(m);
}

/* Against a plain array, through many puts and removes in a full table (long probe runs that wrap
 * around the end): every watch is found until removed, and none after. */
static void test_model(void)
{
    enum { N = 1000, KEYS = 5000 };
    MemctlWdMap *m = NULL;
    g_assert_cmpint(memctl_wdmap_new(N, &m), ==, 0);
    static int32_t model[KEYS + 1];
    for (size_t k = 0; k <= KEYS; k++)
        model[k] = -1;
    GRand *rand = g_rand_new_with_seed(42);
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        int32_t wd = g_rand_int_range(rand, 1, KEYS + 1);
        if (g_rand_boolean(rand) && (count < N || model[wd] >= 0)) {
            int32_t v = g_rand_int_range(rand, 0, 1 << 20);
            g_assert_cmpint(memctl_wdmap_put(m, wd, v), ==, 0);
            count += model[wd] < 0;
            model[wd] = v;
        } else {
            g_assert_cmpint(memctl_wdmap_remove(m, wd), ==, model[wd] >= 0);
            count -= model[wd] >= 0;
            model[wd] = -1;
        }
        if (step % 997 == 0)
            for (int32_t k = 1; k <= KEYS; k++)
                g_assert_cmpint(memctl_wdmap_get(m, k), ==, model[k]);
        g_assert_cmpuint(memctl_wdmap_count(m), ==, count);
    }
    g_rand_free(rand);
    memctl_wdmap_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/wdmap/basic", test_basic);
    g_test_add_func("/wdmap/model", test_model);
    return g_test_run();
}
