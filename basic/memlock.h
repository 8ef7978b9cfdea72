/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What memctld keeps resident (docs/ARCHITECTURE.md, "Memory"): everything it has touched stays
 * locked (mlockall with MCL_ONFAULT: a thread's untouched stack, a library's unused code are never
 * faulted in), and what the core's kill path needs is touched up front: its own memory
 * (memctl_prefault() on every buffer it allocates) and its code (memctl_memlock_code()).
 */

/* No transparent huge pages for this process (PR_SET_THP_DISABLE; children inherit it): with THP
 * "always" (Debian's default) the first touch of a 2 MiB-aligned stretch of an anonymous mapping, a
 * thread's stack that uses 20 KiB of it, faults in a whole huge page, which mlock then keeps. Call
 * it before the first allocation worth a huge page. Returns 0 or -errno. */
int memctl_memlock_no_thp(void);

/* Locks every page as it is faulted, now and in the future. Returns 0; 1 when the kernel has no
 * MCL_ONFAULT (before 4.4) and everything mapped was locked and faulted in instead; or -errno. */
int memctl_memlock_all(void);

/* Locks (and so faults in) every loadable segment of the program itself, of libc and of the dynamic
 * loader: the core thread runs only their code. Returns 0 and the bytes locked, or -errno. */
int memctl_memlock_code(uint64_t *ret_bytes);

/*
 * Drops from this process's pages the read-only segments (code, constants) of every loaded object
 * but the three memctl_memlock_code() locks: what start-up touched of them (initialisers, option
 * parsing, adoption, and the neighbours the kernel's fault-around mapped with those), locked by
 * MCL_ONFAULT, and locks them again as they are touched (MLOCK_ONFAULT): what the GLib side runs
 * after start-up stays resident, and what only start-up ran is read back from the page cache if it
 * is ever needed again. Only where memctl_memlock_all() got MCL_ONFAULT. Returns the bytes dropped.
 */
uint64_t memctl_memlock_trim(void);

/*
 * Gives the free pages inside the main heap back to the kernel: MCL_ONFAULT keeps every page the
 * heap ever used locked, and malloc_trim()'s MADV_DONTNEED refuses locked pages, so a burst of
 * allocations (adoption, a large reply) stayed resident for good. Unlocks the heap, trims it, and
 * locks it again as touched: the pages in use are resident and locked again at once. Only where
 * memctl_memlock_all() got MCL_ONFAULT. Returns 0 or -errno (-ENOENT: no heap).
 */
int memctl_memlock_trim_heap(void);

/* Writes each page of [p, p + n) with what it holds: memory from calloc() is mapped but not there until it
 * is touched, and the core must never fault a page in under pressure. */
void memctl_prefault(void *p, size_t n);
