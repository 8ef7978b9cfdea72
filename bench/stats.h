/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the benchmarks: percentiles and reading a workload's output lines. */
#pragma once

#include <glib.h>

/* Nearest-rank percentile (q in 0..1) of an array of doubles; sorts it; 0 when empty. */
double bench_pct(GArray *values, double q);

/* One line from fd (without the newline), waiting at most timeout_ms; "" at EOF or timeout. */
char *bench_read_line(int fd, int timeout_ms);

/* "kernel <release>" line and the release itself, for reports. */
char *bench_kernel_release(void);
