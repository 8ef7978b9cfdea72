/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int bench_cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_pct(GArray *v, double q)
{
    if (v->len == 0)
        return 0;
    g_array_sort(v, bench_cmp_double);
    guint idx = (guint)(q * v->len + 0.999999);
    idx = idx == 0 ? 0 : idx - 1;
    return g_array_index(v, double, MIN(idx, v->len - 1));
}

char *bench_kernel_release(void)
{
    char *kernel = NULL;
    if (!g_file_get_contents("/proc/sys/kernel/osrelease", &kernel, NULL, NULL))
        return g_strdup("?");
    return g_strstrip(kernel);
}

int bench_psi_trigger(void)
{
    static const char trigger[] = "some 5000 500000";
    int fd = open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || write(fd, trigger, sizeof(trigger)) < 0)
        g_error("cannot set a PSI trigger on /proc/pressure/memory: %s", g_strerror(errno));
    return fd;
}
