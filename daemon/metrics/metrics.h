/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "daemon/core/api.h"
#include "daemon/metrics/expo.h"

/*
 * The metrics memctld exports (docs/METRICS.md): counters it keeps itself (kills by group and
 * reason, kill latency histograms) and values read when a scrape asks (cgroup files, PSI, meminfo,
 * the reserve). GLib side only: rendering reads files and allocates, never touches the core.
 */
typedef struct MemctlMetrics MemctlMetrics;
struct MemctlManager;

MemctlMetrics *memctl_metrics_new(void);
void memctl_metrics_free(MemctlMetrics *mx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlMetrics, memctl_metrics_free)

/* Counts a kill (memctld's: by group and reason, latencies into the histograms). */
void memctl_metrics_record(MemctlMetrics *mx, const MemctlCoreEvent *e);

/* The whole exposition. Series of groups that no longer exist are dropped. */
GString *memctl_metrics_render(MemctlMetrics *mx, struct MemctlManager *m, MemctlExpoFormat format);

/* Scrapes served (over HTTP or D-Bus), and their total rendering time: the exporter's own cost. */
void memctl_metrics_count_scrape(MemctlMetrics *mx, uint64_t render_usec);
