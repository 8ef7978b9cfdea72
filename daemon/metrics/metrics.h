/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "daemon/core/api.h"
#include "daemon/group/group.h"
#include "daemon/metrics/expo.h"

/*
 * The metrics memctld exports (docs/METRICS.md): counters it keeps itself (kills by group and
 * reason, kill latency histograms) and values read when a scrape asks (cgroup files, PSI, meminfo,
 * the reserve). GLib side only: rendering reads files and allocates, never touches the core.
 */
typedef struct MemctlMetrics MemctlMetrics;

/* The reserve's figures (daemon/reserve/): GetStatus shows them too. */
typedef struct {
    uint64_t total, registered, leased, free, resident, lent;
} MemctlReserveFigures;

/* What a scrape shows besides the counters kept here, taken by the caller at the scrape
 * (daemon/manager.c): the rendering reads no other state of memctld. */
typedef struct {
    MemctlGroups *groups; /* the group series: each group's files are read while rendering */
    const char *proc;     /* procfs: meminfo, pressure/memory, self/statm */
    uint64_t uptime_usec;
    bool core_alive;
    bool dry_run;
    uint64_t events_dropped;
    uint64_t reclaim_steps, reclaim_usec; /* proactive reclaim's writes and their time */
    bool has_reserve;                     /* the memctl_reserve_* series are shown */
    MemctlReserveFigures reserve;
} MemctlMetricsSnapshot;

MemctlMetrics *memctl_metrics_new(void);
void memctl_metrics_free(MemctlMetrics *mx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlMetrics, memctl_metrics_free)

/* Counts a kill (memctld's: by group and reason, latencies into the histograms), a dry run's record
 * (by group and reason) or its outcome (by group and outcome). */
void memctl_metrics_record(MemctlMetrics *mx, const MemctlCoreEvent *e);

/* The whole exposition. Series of groups that no longer exist are dropped. */
GString *memctl_metrics_render(MemctlMetrics *mx, const MemctlMetricsSnapshot *s, MemctlExpoFormat format);

/* Scrapes served (over HTTP or D-Bus), and their total rendering time: the exporter's own cost. */
void memctl_metrics_count_scrape(MemctlMetrics *mx, uint64_t render_usec);
