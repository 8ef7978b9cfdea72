/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

/*
 * The reserve (WHY.md §3): memory preallocated at start, resident and locked, charged to memctld's
 * own leaf, from which registered critical clients get leases. GLib side, cold path: everything
 * that allocates (carving a lease, refilling the pool) happens at registration time, never when a
 * client needs its lease.
 *
 * The pool is one memfd whose first `free` bytes are resident (mapped by memctld, mlocked, every page
 * touched); the rest is a hole. Carving a lease of N bytes faults a new sealed memfd of N bytes first
 * and only then punches N bytes off the pool, so the total memctld holds never dips: the memory is
 * moved, not released and re-taken. A lease is handed to one holder at a time as a dup of its memfd;
 * when that holder is done, the registration gets a new memfd (renew) and the old one is emptied, so
 * a holder that keeps its fd or mapping keeps nothing of the reserve and sees nothing of the next
 * holder's. Giving a lease back empties it and faults N bytes back into the pool.
 */

typedef struct {
    int fd;       /* memfd, sealed against shrinking, growing and further seals */
    uint8_t *map; /* memctld's own mapping (MAP_SHARED, locked) */
    uint64_t size;
} MemctlLeaseMem;

typedef struct MemctlReserve MemctlReserve;

/* Preallocates `bytes` (rounded up to pages; 0: an empty reserve). Returns 0 or -errno. */
int memctl_reserve_new(uint64_t bytes, MemctlReserve **ret);
void memctl_reserve_free(MemctlReserve *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlReserve, memctl_reserve_free)

uint64_t memctl_reserve_total(const MemctlReserve *r);
/* Bytes not carved into leases. */
uint64_t memctl_reserve_free_bytes(const MemctlReserve *r);
/* Bytes memctld really holds resident now, from mincore(): in the pool, in a lease. For status: the
 * pool plus every lease equals the total while the accounting is right. */
uint64_t memctl_reserve_resident(const MemctlReserve *r);
uint64_t memctl_reserve_lease_resident(const MemctlLeaseMem *mem);

/* Moves `bytes` (rounded up to pages, > 0) from the pool into a new lease. -ENOSPC if the pool has
 * less free; ret untouched on failure. */
int memctl_reserve_carve(MemctlReserve *r, uint64_t bytes, MemctlLeaseMem *ret);
/* Empties the lease (its pages are freed, also where a holder still maps them), closes it and refills
 * the pool by its size. */
void memctl_reserve_give_back(MemctlReserve *r, MemctlLeaseMem *mem);
/* Replaces the lease's memory with a new memfd of the same size, resident and zeroed, and empties the
 * old one (its holder may keep the fd or a mapping: it reaches nothing anyone else uses). The new
 * memory is allocated before the old is freed; when the host cannot give it, the old goes first.
 * 0, or -errno with *mem emptied but kept: it must not be leased until a later renew succeeds. */
int memctl_reserve_renew(MemctlLeaseMem *mem);

/* Lends a lease's memory to the system: its pages are freed (punched out of the memfd) so that a
 * boosted group can use them. 0 or -errno. */
int memctl_reserve_lend(MemctlLeaseMem *mem);
/* Takes it back: allocates every page of the lease again (fallocate, so a host that still has no
 * memory fails with -ENOMEM/-ENOSPC instead of a fault) and maps it in, zeroed. 0 or -errno; on
 * failure what was allocated stays and a later call completes it. */
int memctl_reserve_refill(MemctlLeaseMem *mem);
