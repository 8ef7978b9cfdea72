/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Proactive reclaim paced by pressure (policy/proactive.c), on synthetic samples and on a model
 * of a group with a hot set and cold cache. */
#include <glib.h>

#include "policy/proactive.h"

#define MiB ((uint64_t)1024 * 1024)
#define SEC 1000000ull

static const MemctlProactiveConfig cfg = {.target_ppm = 1000, .floor = 0};

static MemctlProactiveSample sample(uint64_t t_sec, uint64_t some_usec, uint64_t current)
{
    return (MemctlProactiveSample){
            .t_usec = t_sec * SEC, .some_usec = some_usec, .current = current, .could_free = current};
}

/* The first sample only primes; so does one from a clock that went back. */
static void test_primes(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(10, 0, 400 * MiB);
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
    g_assert_cmpuint(p.workingset, ==, 400 * MiB); /* an upper bound until the target is reached */
    g_assert_false(p.known);
    s = sample(16, 0, 400 * MiB);
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), >, 0);
    s = sample(12, 0, 400 * MiB); /* back in time */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
}

/* Calm: the step starts at 16/1024 of what is above the floor and doubles each calm interval up to
 * a quarter. */
static void test_step_grows_while_calm(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &cfg, &s);
    uint64_t want[] = {16 * MiB, 32 * MiB, 64 * MiB, 128 * MiB, 256 * MiB, 256 * MiB};
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        s = sample(6 * (i + 1), 0, 1024 * MiB);
        g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, want[i]);
    }
}

/* At the target: nothing this interval, the step halved, the usage now the working set. Under
 * half the target... half the step. */
static void test_breach_backs_off(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &cfg, &s);
    for (int i = 1; i <= 4; i++) { /* the step reaches 256 */
        s = sample(i, 0, 1024 * MiB);
        (void)memctl_proactive_next(&p, &cfg, &s);
    }
    g_assert_cmpuint(p.step, ==, 256);
    s = sample(5, 1000, 300 * MiB); /* 1 ms over a second: the target */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
    g_assert_cmpuint(p.step, ==, 128);
    g_assert_true(p.known);
    g_assert_cmpuint(p.workingset, ==, 300 * MiB);
    g_assert_cmpuint(p.breaches, ==, 1);
    g_assert_cmpuint(p.stall_usec, ==, 1000); /* it followed a step: its cost */
    s = sample(6, 1500, 400 * MiB); /* half the target: half of 128/1024 of 400 MiB (above the ws) */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 400 * MiB / 1024 * 128 / 2);
    g_assert_cmpuint(p.step, ==, 128); /* not well under target: no growth */
}

/* A step whose memory came back (half of what it freed refaulted within the interval) cut into the
 * working set, at no stall at all (the multi-gen LRU counts most refaults as no stall); less than
 * half, or refaults with no step before them, are not a breach. */
static void test_refaults_breach(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 400 * MiB);
    s.refaulted = 5 * MiB;
    (void)memctl_proactive_next(&p, &cfg, &s);
    s.t_usec = 1 * SEC;
    uint64_t step = memctl_proactive_next(&p, &cfg, &s);
    g_assert_cmpuint(step, ==, 400 * MiB / 1024 * 16);
    memctl_proactive_reclaimed(&p, 6 * MiB);
    s.t_usec = 2 * SEC;
    s.current = 394 * MiB;
    s.refaulted += 3 * MiB - 1; /* under half of 6 MiB */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), >, 0);
    g_assert_cmpuint(p.breaches, ==, 0);
    memctl_proactive_reclaimed(&p, 6 * MiB);
    s.t_usec = 3 * SEC;
    s.current = 391 * MiB;
    s.refaulted += 3 * MiB; /* half: the step took pages in use */
    uint32_t step_before = p.step;
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
    g_assert_cmpuint(p.breaches, ==, 1);
    g_assert_true(p.known);
    g_assert_cmpuint(p.workingset, ==, 391 * MiB);
    g_assert_cmpuint(p.step, ==,
                     step_before / 2 < MEMCTL_PROACTIVE_STEP_MIN ? MEMCTL_PROACTIVE_STEP_MIN
                                                                 : step_before / 2);
    s.t_usec = 4 * SEC; /* refaults again, but no step before them: the group's own, not a breach */
    s.refaulted += 100 * MiB;
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0); /* at the working set: no step */
    g_assert_cmpuint(p.breaches, ==, 1);
    s.t_usec = 5 * SEC; /* a counter that went back (another cgroup under the name) primes again */
    s.refaulted = 0;
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
    g_assert_cmpuint(p.breaches, ==, 1);
}

/* Measured: steps stop at the working set; one interval in MEMCTL_PROACTIVE_PROBE_EVERY probes
 * below it with the least step, and a probe that costs nothing lets the estimate follow down. */
static void test_probes_below_workingset(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &cfg, &s);
    s = sample(1, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &cfg, &s);
    s = sample(2, 5000, 500 * MiB); /* a breach: the working set is 500 MiB */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), ==, 0);
    g_assert_true(p.known);
    s = sample(3, 5000, 600 * MiB); /* 100 MiB more (cold cache): all of it, no further */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), <=, 100 * MiB);
    uint64_t probes = 0, t = 4;
    for (; t < 4 + 4 * MEMCTL_PROACTIVE_PROBE_EVERY; t++) {
        s = sample(t, 5000, 500 * MiB);
        uint64_t b = memctl_proactive_next(&p, &cfg, &s);
        if (b) {
            probes++;
            g_assert_cmpuint(b, ==, 500 * MiB / 1024 * MEMCTL_PROACTIVE_STEP_MIN);
        }
    }
    g_assert_cmpuint(probes, ==, 4);
    g_assert_cmpuint(p.workingset, ==, 500 * MiB);
    /* the group shrank: a probe costs nothing, the usage is lower, the estimate follows */
    for (uint64_t end = t + MEMCTL_PROACTIVE_PROBE_EVERY; t < end; t++) {
        s = sample(t, 5000, 400 * MiB);
        (void)memctl_proactive_next(&p, &cfg, &s);
    }
    g_assert_cmpuint(p.workingset, ==, 400 * MiB);
}

/* Never below the floor, and never more than reclaim could take. */
static void test_floor_and_room(void)
{
    MemctlProactiveConfig c = {.target_ppm = 1000, .floor = 1000 * MiB};
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &c, &s);
    s = sample(6, 0, 1024 * MiB);
    g_assert_cmpuint(memctl_proactive_next(&p, &c, &s), ==, 0); /* 24 MiB above: a step under 1 MiB */
    for (int i = 2; i < 10; i++) {
        s = sample(6 * (uint64_t)i, 0, 1024 * MiB);
        uint64_t b = memctl_proactive_next(&p, &c, &s);
        g_assert_cmpuint(b, <=, 24 * MiB / 4);
    }
    s = sample(60, 0, 990 * MiB); /* below the floor already */
    g_assert_cmpuint(memctl_proactive_next(&p, &c, &s), ==, 0);
    s = (MemctlProactiveSample){.t_usec = 66 * SEC, .current = 2048 * MiB, .could_free = 8 * MiB};
    g_assert_cmpuint(memctl_proactive_next(&p, &c, &s), <=, 8 * MiB / 4);
}

/* Held (host armed, over high, critical): measured and estimated, nothing asked, the step kept. */
static void test_hold(void)
{
    MemctlProactiveConfig held = {.target_ppm = 1000, .hold = true};
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = sample(0, 0, 1024 * MiB);
    (void)memctl_proactive_next(&p, &held, &s);
    s = sample(6, 0, 512 * MiB);
    g_assert_cmpuint(memctl_proactive_next(&p, &held, &s), ==, 0);
    g_assert_cmpuint(p.workingset, ==, 512 * MiB);
    g_assert_cmpuint(p.step, ==, MEMCTL_PROACTIVE_STEP_MIN);
    s = sample(12, 6000, 600 * MiB); /* a breach while held still counts */
    g_assert_cmpuint(memctl_proactive_next(&p, &held, &s), ==, 0);
    g_assert_true(p.known);
    s = sample(18, 6000, 700 * MiB); /* released: steps again (down to the working set) */
    g_assert_cmpuint(memctl_proactive_next(&p, &cfg, &s), >, 0);
}

/* What reclaim cannot take (anon without swap) is in the working set, however calm. */
static void test_pinned_in_workingset(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    MemctlProactiveSample s = {.t_usec = 0, .current = 500 * MiB, .could_free = 100 * MiB};
    (void)memctl_proactive_next(&p, &cfg, &s);
    s.t_usec = 6 * SEC;
    (void)memctl_proactive_next(&p, &cfg, &s);
    g_assert_cmpuint(p.workingset, >=, 400 * MiB);
}

/* A group that holds `hot` bytes it uses and cold ones it does not: a step takes cold pages first
 * (the kernel's LRU order), and a step that cuts into the hot set is refaulted within the interval,
 * with a stall for every MiB refaulted (200 us: zram; 2 ms: a disk; none: the multi-gen LRU, which
 * counts most refaults as no stall). The estimate converges within
 * 15%, no interval stalls above target twice in a row, and the usage ends within 20% of the hot set. */
typedef struct {
    uint64_t hot, cold;
    uint64_t some, refaulted;
    uint64_t stall_per_mib;
} Model;

static uint64_t model_usage(const Model *m)
{
    return m->hot + m->cold;
}

static void model_interval(Model *m, uint64_t step)
{
    uint64_t from_cold = step < m->cold ? step : m->cold;
    m->cold -= from_cold;
    uint64_t refault = step - from_cold; /* cut into the hot set, and brought back at once */
    m->some += refault / MiB * m->stall_per_mib;
    m->refaulted += refault;
}

static void run_model(uint64_t hot, uint64_t cold, uint64_t stall_per_mib, uint32_t grow_hot_at)
{
    Model m = {.hot = hot, .cold = cold, .stall_per_mib = stall_per_mib};
    MemctlProactive p;
    memctl_proactive_init(&p);
    uint64_t step = 0, some_settled = 0;
    uint32_t breaches_settled = 0;
    bool last_breach = false;
    for (uint32_t i = 0; i < 80; i++) {
        if (i == grow_hot_at)
            m.hot *= 2; /* the working set doubles: more misses, paid as stall this interval */
        model_interval(&m, step);
        MemctlProactiveSample s = {.t_usec = (uint64_t)(i + 1) * 6 * SEC,
                                   .some_usec = m.some,
                                   .current = model_usage(&m),
                                   .could_free = model_usage(&m),
                                   .refaulted = m.refaulted};
        uint32_t breaches = p.breaches;
        step = memctl_proactive_next(&p, &cfg, &s);
        if (step)
            memctl_proactive_reclaimed(&p, step); /* measured at once, before the hot pages come back */
        bool breach = p.breaches != breaches;
        if (breach)
            g_assert_cmpuint(step, ==, 0); /* backs off at once */
        g_assert_false(breach && last_breach && i != grow_hot_at);
        last_breach = breach;
        if (i == 49)
            some_settled = m.some;
        if (i >= 50)
            breaches_settled += breach;
    }
    /* Settled (the last 30 intervals): a breach only when a probe found the hot set, and the stall
     * over them under the target (1 ms a second: 180 ms in 180 s). */
    g_test_message("settled: %u breaches, %" G_GUINT64_FORMAT " us of stall", breaches_settled,
                   m.some - some_settled);
    g_assert_cmpuint(breaches_settled, <=, 30 / MEMCTL_PROACTIVE_PROBE_EVERY + 1);
    g_assert_cmpuint(m.some - some_settled, <=, 30 * 6 * 1000);
    g_test_message("hot %" G_GUINT64_FORMAT " MiB, estimate %" G_GUINT64_FORMAT
                   " MiB, usage %" G_GUINT64_FORMAT " MiB",
                   m.hot / MiB, p.workingset / MiB, model_usage(&m) / MiB);
    g_assert_true(p.known); /* by the stall or, where refaults cost none (0), by the refaults */
    g_assert_cmpuint(p.workingset, >=, m.hot * 85 / 100);
    g_assert_cmpuint(p.workingset, <=, m.hot * 115 / 100);
    g_assert_cmpuint(model_usage(&m), <=, m.hot * 120 / 100);
    g_assert_cmpuint(memctl_proactive_suggest(&p), >=, p.workingset + 16 * MiB);
}

static void test_converges_on_hot_set(void)
{
    run_model(48 * MiB, 300 * MiB, 200, UINT32_MAX);
    run_model(48 * MiB, 300 * MiB, 2000, UINT32_MAX);
    run_model(1024 * MiB, 4096 * MiB, 200, UINT32_MAX);
    run_model(48 * MiB, 300 * MiB, 0, UINT32_MAX); /* the multi-gen LRU: refaults at no stall */
}

static void test_follows_growth(void)
{
    run_model(48 * MiB, 300 * MiB, 2000, 40);
    run_model(48 * MiB, 300 * MiB, 0, 40);
}

static void test_suggest(void)
{
    MemctlProactive p;
    memctl_proactive_init(&p);
    g_assert_cmpuint(memctl_proactive_suggest(&p), ==, 0);
    p.workingset = 40 * MiB;
    g_assert_cmpuint(memctl_proactive_suggest(&p), ==, 56 * MiB); /* at least 16 MiB more */
    p.workingset = 1000 * MiB + 1;
    g_assert_cmpuint(memctl_proactive_suggest(&p), ==, 1251 * MiB); /* 25% more, a MiB up */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proactive/primes", test_primes);
    g_test_add_func("/proactive/step-grows-while-calm", test_step_grows_while_calm);
    g_test_add_func("/proactive/breach-backs-off", test_breach_backs_off);
    g_test_add_func("/proactive/refaults-breach", test_refaults_breach);
    g_test_add_func("/proactive/probes-below-workingset", test_probes_below_workingset);
    g_test_add_func("/proactive/floor-and-room", test_floor_and_room);
    g_test_add_func("/proactive/hold", test_hold);
    g_test_add_func("/proactive/pinned-in-workingset", test_pinned_in_workingset);
    g_test_add_func("/proactive/converges-on-hot-set", test_converges_on_hot_set);
    g_test_add_func("/proactive/follows-growth", test_follows_growth);
    g_test_add_func("/proactive/suggest", test_suggest);
    return g_test_run();
}
