/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "policy/victim.h"

#define MiB (1024ull * 1024)

static MemctlCandidate cand(int pid, uint64_t anon_mib, uint64_t swap_mib, int adj, uint32_t flags)
{
    MemctlCandidate c = {.pid = pid, .oom_score_adj = (int16_t)adj, .flags = flags};
    c.anon_bytes = anon_mib * MiB;
    c.swap_bytes = swap_mib * MiB;
    snprintf(c.comm, sizeof(c.comm), "p%d", pid);
    return c;
}

static size_t pick(const MemctlCandidate *c, size_t n)
{
    size_t i = 999;
    g_assert_cmpint(memctl_victim_pick(c, n, 128 * MiB, &i), ==, 0);
    return i;
}

static void test_largest_footprint(void)
{
    MemctlCandidate c[] = {cand(10, 20, 0, 0, 0), cand(11, 50, 0, 0, 0), cand(12, 30, 30, 0, 0)};
    g_assert_cmpuint(pick(c, 3), ==, 2); /* 30 anon + 30 swap beats 50 anon */
}

static void test_exclusions(void)
{
    MemctlCandidate c[] = {
            cand(10, 90, 0, -1000, 0),                /* oom_score_adj -1000: never */
            cand(11, 80, 0, 0, MEMCTL_CAND_CRITICAL), /* registered critical client */
            cand(12, 70, 0, 0, MEMCTL_CAND_SELF),     /* memctld */
            cand(13, 60, 0, 0, MEMCTL_CAND_GONE),     /* exited while sampled */
            cand(15, 60, 0, 0, MEMCTL_CAND_DYING),    /* SIGKILL pending: stuck, killed already */
            cand(1, 60, 0, 0, 0),                     /* init */
            cand(14, 1, 0, 0, 0),
    };
    g_assert_cmpuint(pick(c, G_N_ELEMENTS(c)), ==, 6);
    size_t i = 999;
    g_assert_cmpint(memctl_victim_pick(c, 6, 128 * MiB, &i), ==, -ESRCH);
    g_assert_cmpuint(i, ==, 999);
    g_assert_cmpint(memctl_victim_pick(c, 0, 128 * MiB, &i), ==, -ESRCH);
}

static void test_oom_score_adj(void)
{
    /* adj 500 of a 128M scale adds 64M: 10M + 64M beats 60M */
    MemctlCandidate c[] = {cand(10, 60, 0, 0, 0), cand(11, 10, 0, 500, 0)};
    g_assert_cmpuint(pick(c, 2), ==, 1);
    /* adj -500 subtracts 64M: 100M - 64M loses to 40M */
    MemctlCandidate d[] = {cand(10, 100, 0, -500, 0), cand(11, 40, 0, 0, 0)};
    g_assert_cmpuint(pick(d, 2), ==, 1);
    /* an eligible process with all points subtracted still scores 1: it can still be chosen */
    MemctlCandidate e[] = {cand(10, 1, 0, -999, 0)};
    g_assert_cmpuint(memctl_victim_badness(&e[0], 128 * MiB), ==, 1);
    g_assert_cmpuint(pick(e, 1), ==, 0);
}

static void test_prefer_avoid(void)
{
    MemctlCandidate c[] = {cand(10, 90, 0, 0, MEMCTL_CAND_AVOID), cand(11, 5, 0, 0, MEMCTL_CAND_PREFER),
                           cand(12, 50, 0, 0, 0)};
    g_assert_cmpuint(pick(c, 3), ==, 1);
    c[1].flags = 0;
    g_assert_cmpuint(pick(c, 3), ==, 2); /* avoided only when nothing else is left */
    c[1].flags = c[2].flags = MEMCTL_CAND_CRITICAL;
    g_assert_cmpuint(pick(c, 3), ==, 0);
}

static void test_ties(void)
{
    MemctlCandidate c[] = {cand(30, 10, 0, 0, 0), cand(50, 10, 0, 0, 0), cand(40, 10, 0, 0, 0)};
    g_assert_cmpuint(pick(c, 3), ==, 1); /* equal footprints: the higher pid */
    MemctlCandidate d[] = {cand(50, 10, 0, 0, 0), cand(40, 10, 0, 0, 0), cand(30, 10, 0, 0, 0)};
    g_assert_cmpuint(pick(d, 3), ==, 0); /* independent of order */
}

static void test_comm_in(void)
{
    const char *const list[] = {"postgres", "java", "a-very-long-name-over-15"};
    g_assert_true(memctl_victim_comm_in("java", list, 3));
    g_assert_false(memctl_victim_comm_in("jav", list, 3));
    g_assert_false(memctl_victim_comm_in("javac", list, 3));
    g_assert_false(memctl_victim_comm_in("a-very-long-nam", list, 3)); /* longer names never match */
    g_assert_false(memctl_victim_comm_in("java", list, 0));
}

static MemctlGroupCandidate grp(uint64_t cur_mib, uint64_t min_mib, uint64_t low_mib, uint32_t prio,
                                uint32_t flags)
{
    return (MemctlGroupCandidate){.current = cur_mib * MiB,
                                  .min = min_mib * MiB,
                                  .low = low_mib * MiB,
                                  .priority = prio,
                                  .flags = flags};
}

static void test_groups(void)
{
    /* usage above protection decides: 300M with 250M low (50 above) loses to 200M unprotected */
    MemctlGroupCandidate g[] = {grp(300, 0, 250, 50, 0), grp(200, 0, 0, 50, 0)};
    size_t i = 999;
    g_assert_cmpint(memctl_victim_pick_group(g, 2, &i), ==, 0);
    g_assert_cmpuint(i, ==, 1);
    /* priority weighs: (101-90)*200 = 2200 < (101-50)*50 = 2550 */
    g[1].priority = 90;
    g_assert_cmpint(memctl_victim_pick_group(g, 2, &i), ==, 0);
    g_assert_cmpuint(i, ==, 0);
    /* min counts as protection as well as low */
    g[0] = grp(300, 280, 0, 50, 0);
    g_assert_cmpint(memctl_victim_pick_group(g, 2, &i), ==, 0);
    g_assert_cmpuint(i, ==, 1);
    /* critical, busy, empty and fully protected groups are never chosen */
    MemctlGroupCandidate h[] = {grp(900, 0, 0, 1, MEMCTL_GCAND_CRITICAL),
                                grp(900, 0, 0, 1, MEMCTL_GCAND_BUSY), grp(900, 0, 0, 1, MEMCTL_GCAND_EMPTY),
                                grp(100, 100, 0, 1, 0)};
    i = 999;
    g_assert_cmpint(memctl_victim_pick_group(h, 4, &i), ==, -ESRCH);
    g_assert_cmpuint(i, ==, 999);
    /* ties: larger current, then the first index */
    MemctlGroupCandidate t[] = {grp(100, 0, 0, 50, 0), grp(150, 50, 0, 50, 0), grp(150, 50, 0, 50, 0)};
    g_assert_cmpint(memctl_victim_pick_group(t, 3, &i), ==, 0);
    g_assert_cmpuint(i, ==, 1);
}

static void test_spared(void)
{
    MemctlCandidate c = {.pid = 100, .anon_bytes = 1 << 20};
    g_assert_false(memctl_victim_spared(&c));
    c.flags = MEMCTL_CAND_DYING | MEMCTL_CAND_PREFER; /* killed anyway, or first: not spared */
    g_assert_false(memctl_victim_spared(&c));
    c.flags = MEMCTL_CAND_CRITICAL;
    g_assert_true(memctl_victim_spared(&c));
    c.flags = MEMCTL_CAND_SELF;
    g_assert_true(memctl_victim_spared(&c));
    c.flags = 0;
    c.oom_score_adj = -1000;
    g_assert_true(memctl_victim_spared(&c));
    c.oom_score_adj = -999;
    g_assert_false(memctl_victim_spared(&c));
    c.pid = 1;
    g_assert_true(memctl_victim_spared(&c));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/victim/largest-footprint", test_largest_footprint);
    g_test_add_func("/victim/exclusions", test_exclusions);
    g_test_add_func("/victim/oom-score-adj", test_oom_score_adj);
    g_test_add_func("/victim/prefer-avoid", test_prefer_avoid);
    g_test_add_func("/victim/ties", test_ties);
    g_test_add_func("/victim/comm-in", test_comm_in);
    g_test_add_func("/victim/groups", test_groups);
    g_test_add_func("/victim/spared", test_spared);
    return g_test_run();
}
