/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A bounded single-producer single-consumer ring of fixed-size items, preallocated at creation,
 * with an eventfd that becomes readable when items are pushed. The core thread pushes kill records
 * to the GLib side through one, and the GLib side pushes commands to the core through another:
 * push and pop never allocate, never block and never take a lock.
 */
typedef struct MemctlRing MemctlRing;

/* capacity is rounded up to a power of two. Returns 0 or -errno. */
int memctl_ring_new(size_t item_size, size_t capacity, MemctlRing **ret);
void memctl_ring_free(MemctlRing *r);

/* Copies item in; returns false (and counts a drop) when the ring is full. Producer side only. */
bool memctl_ring_push(MemctlRing *r, const void *item);
/* The same, but a full ring is no drop: the producer keeps the item and offers it again later. */
bool memctl_ring_offer(MemctlRing *r, const void *item);
/* A push that leaves `keep` items of room for the others: for items worth less than those (a
 * notice), so that a flood of them never fills the ring. A refusal counts as a drop. */
bool memctl_ring_push_spare(MemctlRing *r, const void *item, size_t keep);
/* A push that does not wake the consumer (yet): memctl_ring_kick() does, for all pushed so far. For
 * a producer that pushes many items in a row, so that the consumer wakes once for them all. */
bool memctl_ring_push_quiet(MemctlRing *r, const void *item);
void memctl_ring_kick(MemctlRing *r);
/* The number of items the ring holds at most. */
size_t memctl_ring_capacity(const MemctlRing *r);
/* Copies the oldest item out; returns false when empty. Consumer side only. */
bool memctl_ring_pop(MemctlRing *r, void *ret_item);

/* The eventfd to poll (readable after a push); memctl_ring_ack() resets it before draining. */
int memctl_ring_fd(const MemctlRing *r);
void memctl_ring_ack(MemctlRing *r);

/* Items lost because the ring was full. */
uint64_t memctl_ring_dropped(const MemctlRing *r);

static inline void memctl_ring_freep(MemctlRing **r)
{
    if (*r)
        memctl_ring_free(*r);
}
#define _cleanup_ring_ __attribute__((cleanup(memctl_ring_freep)))
