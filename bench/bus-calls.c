/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-bus-calls: the D-Bus API's throughput and latency from a client (libmemctl, sd-bus), against
 * memctld on a private dbus-daemon, on the real kernel:
 *   ping           org.freedesktop.DBus.Peer.Ping to memctld: the transport's floor (GDBus answers it
 *                  without memctld's code), measured in the same run
 *   GetStatus      memctld's status dictionary (reads /proc/meminfo and PSI)
 *   CreateGroup    a new group with a limit: mkdir, two memory.* writes, the core's fds, the object
 *   RemoveGroup    final counters, rmdir, the object's removal
 *
 *   bench-bus-calls [--calls N] [--groups N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <sys/utsname.h>
#include <time.h>

#include "include/memctl/client.h"
#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *lat, size_t n, uint64_t total_ns)
{
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("| %-12s | %6zu | %9.0f | %8.3f | %8.3f | %8.3f |\n", what, n, n / (total_ns / 1e9),
           lat[n / 2] / 1e6, lat[(n * 99) / 100] / 1e6, lat[n - 1] / 1e6);
}

int main(int argc, char **argv)
{
    size_t calls = 2000, groups = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--calls") == 0)
            calls = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--groups") == 0)
            groups = strtoul(argv[i + 1], NULL, 10);
    }
    if (calls < 10 || groups < 10) {
        fprintf(stderr, "bench-bus-calls: --calls and --groups must be at least 10\n");
        return 2;
    }
    ApiTest t;
    apitest_start(&t, "memctl-bench-bus", NULL);
    MemctlClient *c = NULL;
    if (memctl_client_open(t.bus.address, &c) < 0)
        return 1;
    sd_bus *bus = memctl_client_bus(c);
    uint64_t *lat = calloc(calls > groups ? calls : groups, sizeof(uint64_t));

    struct utsname u;
    if (uname(&u) == 0)
        printf("kernel where it ran: %s %s\n\n", u.sysname, u.release);
    printf("| call         |  calls |  calls/s | p50 (ms) | p99 (ms) | max (ms) |\n");
    printf("|--------------|-------:|---------:|---------:|---------:|---------:|\n");
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < calls; i++) {
        uint64_t s = now_ns();
        if (sd_bus_call_method(bus, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
                               NULL, NULL, "") < 0)
            return 1;
        lat[i] = now_ns() - s;
    }
    report("ping (floor)", lat, calls, now_ns() - t0);

    t0 = now_ns();
    for (size_t i = 0; i < calls; i++) {
        MemctlStatus st;
        uint64_t s = now_ns();
        if (memctl_client_get_status(c, &st) < 0)
            return 1;
        lat[i] = now_ns() - s;
        memctl_status_clear(&st);
    }
    report("GetStatus", lat, calls, now_ns() - t0);

    MemctlSetting lim[] = {{"limit", "64M"}};
    char name[32];
    t0 = now_ns();
    for (size_t i = 0; i < groups; i++) {
        snprintf(name, sizeof(name), "g%zu", i);
        uint64_t s = now_ns();
        if (memctl_client_create_group(c, name, lim, 1, NULL) < 0) {
            fprintf(stderr, "CreateGroup %s: %s\n", name, memctl_client_error_message(c));
            return 1;
        }
        lat[i] = now_ns() - s;
    }
    report("CreateGroup", lat, groups, now_ns() - t0);

    t0 = now_ns();
    for (size_t i = 0; i < groups; i++) {
        snprintf(name, sizeof(name), "g%zu", i);
        uint64_t s = now_ns();
        if (memctl_client_remove_group(c, name, 0, NULL) < 0) {
            fprintf(stderr, "RemoveGroup %s: %s\n", name, memctl_client_error_message(c));
            return 1;
        }
        lat[i] = now_ns() - s;
    }
    report("RemoveGroup", lat, groups, now_ns() - t0);

    free(lat);
    memctl_client_free(c);
    apitest_stop(&t);
    return 0;
}
