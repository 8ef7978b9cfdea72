/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * What memctld keeps resident (docs/ARCHITECTURE.md, "Memory"): everything it has touched stays
 * locked (mlockall with MCL_ONFAULT: a thread's untouched stack, a library's unused code are never
 * faulted in), and what the core's kill path needs is touched up front: its own memory
 * (memctl_prefault() on every buffer it allocates) and its code (memctl_memlock_code()).
 */

/* Locks every page as it is faulted, now and in the future. Returns 0; 1 when the kernel has no
 * MCL_ONFAULT (before 4.4) and everything mapped was locked and faulted in instead; or -errno. */
int memctl_memlock_all(void);

/* Locks (and so faults in) every loadable segment of the program itself, of libc and of the dynamic
 * loader: the core thread runs only their code. Returns 0 and the bytes locked, or -errno. */
int memctl_memlock_code(uint64_t *ret_bytes);

/* Unlocks the read-only segments (code, constants) of the loaded libraries named in libs (NULL-ended
 * sonames without their version: "libgnutls" for libgnutls.so.30) and drops them from this process's
 * pages: libraries it loads and never calls, whose initialisers touched them at start. They stay in
 * the page cache; a later call would read them back. Returns the bytes released. */
uint64_t memctl_memlock_release(const char *const *libs);

/* Writes each page of [p, p + n) with what it holds: memory from calloc() is mapped but not there until it
 * is touched, and the core must never fault a page in under pressure. */
void memctl_prefault(void *p, size_t n);
