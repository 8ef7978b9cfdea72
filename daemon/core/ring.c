/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/core/ring.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "basic/memlock.h"

struct MemctlRing {
    size_t item_size;
    size_t mask;
    int efd;
    _Atomic size_t head; /* next slot to write; written by the producer */
    _Atomic size_t tail; /* next slot to read; written by the consumer */
    _Atomic uint64_t dropped;
    unsigned char *items;
};

int memctl_ring_new(size_t item_size, size_t capacity, MemctlRing **ret)
{
    if (item_size == 0 || capacity == 0 || capacity > (1u << 20))
        return -EINVAL;
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    MemctlRing *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->items = calloc(cap, item_size);
    r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!r->items || r->efd < 0) {
        int e = r->efd < 0 ? -errno : -ENOMEM;
        memctl_ring_free(r);
        return e;
    }
    memctl_prefault(r->items, cap * item_size); /* the core pushes with no free memory */
    r->item_size = item_size;
    r->mask = cap - 1;
    *ret = r;
    return 0;
}

void memctl_ring_free(MemctlRing *r)
{
    if (!r)
        return;
    if (r->efd >= 0)
        close(r->efd);
    free(r->items);
    free(r);
}

/* Copies item in if that leaves `keep` items of room; false (nothing counted) otherwise. Wakes the
 * consumer if `kick`. */
static bool ring_put(MemctlRing *r, const void *item, size_t keep, bool kick)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (keep > r->mask || head - tail + keep > r->mask)
        return false;
    memcpy(r->items + (head & r->mask) * r->item_size, item, r->item_size);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    if (kick)
        memctl_ring_kick(r);
    return true;
}

void memctl_ring_kick(MemctlRing *r)
{
    uint64_t one = 1;
    /* EAGAIN only when the counter would overflow: the reader is woken anyway. */
    (void)!write(r->efd, &one, sizeof(one));
}

/* ring_put(), a refusal counted as a drop. */
static bool ring_push(MemctlRing *r, const void *item, size_t keep, bool kick)
{
    if (ring_put(r, item, keep, kick))
        return true;
    atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
    return false;
}

bool memctl_ring_push_quiet(MemctlRing *r, const void *item)
{
    return ring_push(r, item, 0, false);
}

bool memctl_ring_push(MemctlRing *r, const void *item)
{
    return memctl_ring_push_spare(r, item, 0);
}

bool memctl_ring_push_spare(MemctlRing *r, const void *item, size_t keep)
{
    return ring_push(r, item, keep, true);
}

size_t memctl_ring_capacity(const MemctlRing *r)
{
    return r->mask + 1;
}

bool memctl_ring_offer(MemctlRing *r, const void *item)
{
    return ring_put(r, item, 0, true);
}

bool memctl_ring_pop(MemctlRing *r, void *ret_item)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return false;
    memcpy(ret_item, r->items + (tail & r->mask) * r->item_size, r->item_size);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

int memctl_ring_fd(const MemctlRing *r)
{
    return r->efd;
}

void memctl_ring_ack(MemctlRing *r)
{
    uint64_t v;
    (void)!read(r->efd, &v, sizeof(v));
}

uint64_t memctl_ring_dropped(const MemctlRing *r)
{
    return atomic_load_explicit(&((MemctlRing *)r)->dropped, memory_order_relaxed);
}
