/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/core/ring.c: the rings between the core and the GLib side. */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdint.h>

#include "daemon/core/ring.h"

static bool readable(const MemctlRing *r)
{
    struct pollfd p = {.fd = memctl_ring_fd(r), .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* First in, first out; the capacity rounded up to a power of two; a push to a full ring is a drop
 * that is counted; the eventfd says when there is something to read. */
static void test_push_pop(void)
{
    MemctlRing *r = NULL;
    g_assert_cmpint(memctl_ring_new(0, 4, &r), ==, -EINVAL);
    g_assert_cmpint(memctl_ring_new(sizeof(uint32_t), 0, &r), ==, -EINVAL);
    g_assert_cmpint(memctl_ring_new(sizeof(uint32_t), 3, &r), ==, 0); /* room for 4 */
    uint32_t v;
    g_assert_false(memctl_ring_pop(r, &v));
    g_assert_false(readable(r));
    for (uint32_t i = 0; i < 4; i++)
        g_assert_true(memctl_ring_push(r, &i));
    g_assert_true(readable(r));
    uint32_t five = 5;
    g_assert_false(memctl_ring_push(r, &five));
    g_assert_cmpuint(memctl_ring_dropped(r), ==, 1);
    memctl_ring_ack(r);
    g_assert_false(readable(r));
    for (uint32_t i = 0; i < 4; i++) {
        g_assert_true(memctl_ring_pop(r, &v));
        g_assert_cmpuint(v, ==, i);
    }
    g_assert_false(memctl_ring_pop(r, &v));
    memctl_ring_free(r);
}

/* An offer to a full ring is refused without counting a drop (the producer keeps the item: the
 * core's GROUP_RELEASED events), and taken once the reader made room; wrapping around keeps order. */
static void test_offer(void)
{
    MemctlRing *r = NULL;
    g_assert_cmpint(memctl_ring_new(sizeof(uint32_t), 2, &r), ==, 0);
    uint32_t v, next = 0, expect = 0;
    for (int round = 0; round < 5; round++) {
        while (memctl_ring_offer(r, &next))
            next++;
        g_assert_cmpuint(memctl_ring_dropped(r), ==, 0);
        g_assert_true(memctl_ring_pop(r, &v));
        g_assert_cmpuint(v, ==, expect++);
        g_assert_true(memctl_ring_offer(r, &next)); /* room again: the same item is taken */
        next++;
        while (memctl_ring_pop(r, &v))
            g_assert_cmpuint(v, ==, expect++);
    }
    g_assert_cmpuint(expect, ==, next);
    memctl_ring_free(r);
}

/* A push that must leave room is refused (and counted) once the ring is that full; the room it
 * leaves is there for the others; a keep of the whole ring or more refuses everything. */
static void test_spare(void)
{
    MemctlRing *r = NULL;
    g_assert_cmpint(memctl_ring_new(sizeof(uint32_t), 8, &r), ==, 0);
    g_assert_cmpuint(memctl_ring_capacity(r), ==, 8);
    uint32_t i = 0, v;
    g_assert_false(memctl_ring_push_spare(r, &i, 8));
    g_assert_cmpuint(memctl_ring_dropped(r), ==, 1);
    while (memctl_ring_push_spare(r, &i, 2))
        i++;
    g_assert_cmpuint(i, ==, 6);
    g_assert_cmpuint(memctl_ring_dropped(r), ==, 2);
    for (uint32_t k = 6; k < 8; k++) /* the room kept: the others still get in */
        g_assert_true(memctl_ring_offer(r, &k));
    g_assert_false(memctl_ring_offer(r, &i));
    g_assert_true(memctl_ring_pop(r, &v));
    g_assert_false(memctl_ring_push_spare(r, &i, 2)); /* 7 held: room for one, not three */
    g_assert_true(memctl_ring_push_spare(r, &i, 0));
    for (uint32_t k = 1; k < 8; k++) {
        g_assert_true(memctl_ring_pop(r, &v));
        g_assert_cmpuint(v, ==, k);
    }
    memctl_ring_free(r);
}

/* Quiet pushes are there to pop but wake nobody; a kick wakes the reader for all of them at once, and
 * the next ordinary push wakes it as before. */
static void test_quiet(void)
{
    MemctlRing *r = NULL;
    g_assert_cmpint(memctl_ring_new(sizeof(uint32_t), 4, &r), ==, 0);
    for (uint32_t i = 0; i < 3; i++)
        g_assert_true(memctl_ring_push_quiet(r, &i));
    g_assert_false(readable(r));
    memctl_ring_kick(r);
    g_assert_true(readable(r));
    memctl_ring_ack(r);
    g_assert_false(readable(r));
    uint32_t v, three = 3, four = 4;
    for (uint32_t i = 0; i < 3; i++) {
        g_assert_true(memctl_ring_pop(r, &v));
        g_assert_cmpuint(v, ==, i);
    }
    g_assert_true(memctl_ring_push(r, &three));
    g_assert_true(readable(r));
    g_assert_true(memctl_ring_push_quiet(r, &four));
    g_assert_true(memctl_ring_push_quiet(r, &four));
    g_assert_true(memctl_ring_push_quiet(r, &four));
    g_assert_false(memctl_ring_push_quiet(r, &four)); /* full: a drop, counted */
    g_assert_cmpuint(memctl_ring_dropped(r), ==, 1);
    memctl_ring_free(r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ring/push-pop", test_push_pop);
    g_test_add_func("/ring/offer", test_offer);
    g_test_add_func("/ring/spare", test_spare);
    g_test_add_func("/ring/quiet", test_quiet);
    return g_test_run();
}
