/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What reclaim could free in a group (policy/reclaim.c), on synthetic memory.stat figures. */
#include <glib.h>

#include "policy/reclaim.h"

#define MiB (1024ull * 1024)

/* No swap, no cache: only the anon footprint, which nothing can take. */
static void test_anon_without_swap(void)
{
    MemctlReclaimInput in = {.inactive_anon = 60 * MiB, .active_anon = 40 * MiB};
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 0);
    in.host_swap_free = 1024 * MiB; /* the host has swap, the group may not use it (swap.max 0) */
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 0);
}

/* File pages: all of the inactive list, the active one net of mapped pages; reclaimable slab. */
static void test_file_and_slab(void)
{
    MemctlReclaimInput in = {.inactive_file = 10 * MiB,
                             .active_file = 30 * MiB,
                             .file_mapped = 12 * MiB,
                             .slab_reclaimable = 3 * MiB};
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 10 * MiB + 18 * MiB + 3 * MiB);
    in.file_mapped = 50 * MiB; /* more mapped than active: the active list is all in use */
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 13 * MiB);
}

/* Anon pages count as far as swap takes them: the group's room and the host's free swap. */
static void test_swap_room(void)
{
    MemctlReclaimInput in = {.inactive_anon = 100 * MiB,
                             .active_anon = 100 * MiB,
                             .swap_current = 10 * MiB,
                             .swap_max = UINT64_MAX,
                             .host_swap_free = 1024 * MiB};
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 200 * MiB); /* all the anon pages */
    in.swap_max = 50 * MiB;
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 40 * MiB); /* the group's room */
    in.swap_max = UINT64_MAX;
    in.host_swap_free = 7 * MiB;
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 7 * MiB); /* the host's free swap */
    in.swap_max = 5 * MiB;                                         /* already over its swap.max: no room */
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, 0);
}

static void test_saturates(void)
{
    MemctlReclaimInput in = {.inactive_file = UINT64_MAX - 1,
                             .slab_reclaimable = 10,
                             .inactive_anon = 5,
                             .swap_max = UINT64_MAX,
                             .host_swap_free = UINT64_MAX};
    g_assert_cmpuint(memctl_reclaim_could_free(&in), ==, UINT64_MAX);
}

static void test_hopeless(void)
{
    const uint64_t high = 100 * MiB, margin = MiB;
    g_assert_false(memctl_reclaim_hopeless(high, high, 0, margin));                 /* at high: not over */
    g_assert_false(memctl_reclaim_hopeless(high + margin, high, 0, margin));        /* within the margin */
    g_assert_true(memctl_reclaim_hopeless(high + margin + 1, high, 0, margin));     /* over it */
    g_assert_false(memctl_reclaim_hopeless(high + 8 * MiB, high, 8 * MiB, margin)); /* reclaim covers */
    g_assert_true(memctl_reclaim_hopeless(high + 8 * MiB, high, 8 * MiB - 1, margin));
    g_assert_false(memctl_reclaim_hopeless(high + 8 * MiB, high, UINT64_MAX, margin)); /* unknown */
    g_assert_false(memctl_reclaim_hopeless(UINT64_MAX - 1, UINT64_MAX, 0, margin));    /* no high */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reclaim/anon-without-swap", test_anon_without_swap);
    g_test_add_func("/reclaim/file-and-slab", test_file_and_slab);
    g_test_add_func("/reclaim/swap-room", test_swap_room);
    g_test_add_func("/reclaim/saturates", test_saturates);
    g_test_add_func("/reclaim/hopeless", test_hopeless);
    return g_test_run();
}
