/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the benchmarks: percentiles and the kernel release for reports. */
#pragma once

#include <glib.h>

/* Nearest-rank percentile (q in 0..1) of an array of doubles; sorts it; 0 when empty. */
double bench_pct(GArray *values, double q);

/* The running kernel's release, for reports ("?" if unknown). */
char *bench_kernel_release(void);

/* A PSI trigger on /proc/pressure/memory ("some 5000 500000": 5 ms of stall in 500 ms), the
 * reference instant of the host benchmarks: an fd to poll for POLLPRI. Exits on failure. */
int bench_psi_trigger(void);
