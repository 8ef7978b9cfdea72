/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Work that is nearly all system calls on many cgroups (adopting 10,000 groups, a scrape of 1,000)
 * spread over the CPUs: in the kernel it scales with them. GLib side only.
 *
 * Runs prepare(k, data) for every k in [0, n), on the calling thread and on up to max_threads - 1
 * more (no more threads in all than online CPUs; none for fewer than `min_per_thread` items each),
 * and enter(k, data), if not NULL, on the calling thread in the order of k, each as soon as its
 * prepare has returned: the caller prepares too whenever the next to enter is not ready. Returns
 * when every enter has. prepare must touch nothing shared but its own item; threads that cannot be
 * started are done without.
 */
void memctl_parallel_run(size_t n, unsigned max_threads, size_t min_per_thread,
                         void (*prepare)(size_t k, void *data), void (*enter)(size_t k, void *data),
                         void *data);
