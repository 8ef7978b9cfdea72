/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The metrics exposition writer: Prometheus text format 0.0.4 and OpenMetrics 1.0 from the same
 * calls. Pure string building (no I/O), so it is unit-tested on its own.
 *
 * A family is declared once (HELP, TYPE, and in OpenMetrics UNIT when the name ends in _bytes or
 * _seconds), then its samples follow. Names are given without the type's suffix: a counter
 * "memctl_kills" is exposed as memctl_kills_total (and its family as memctl_kills_total in 0.0.4,
 * memctl_kills in OpenMetrics); an info "memctl_build" as memctl_build_info (a gauge in 0.0.4).
 * Labels are NULL-terminated key, value lists; values are escaped (\\, \", \n).
 */
typedef enum {
    MEMCTL_EXPO_PROMETHEUS, /* text/plain; version=0.0.4 */
    MEMCTL_EXPO_OPENMETRICS,
} MemctlExpoFormat;

typedef enum {
    MEMCTL_EXPO_GAUGE,
    MEMCTL_EXPO_COUNTER,
    MEMCTL_EXPO_HISTOGRAM,
    MEMCTL_EXPO_INFO,
} MemctlExpoType;

typedef struct {
    GString *out; /* borrowed */
    MemctlExpoFormat format;
    MemctlExpoType type;
    char family[128];
} MemctlExpo;

void memctl_expo_init(MemctlExpo *x, MemctlExpoFormat format, GString *out);

/* Starts a family. */
void memctl_expo_family(MemctlExpo *x, const char *name, MemctlExpoType type, const char *help);

/* One sample of the current family (gauge, counter or info); +Inf for UINT64_MAX via _inf. */
void memctl_expo_u64(MemctlExpo *x, const char *const *labels, uint64_t value);
void memctl_expo_double(MemctlExpo *x, const char *const *labels, double value);
/* A duration in seconds, exactly, from microseconds: "12.0345" (no float formatting). */
void memctl_expo_usec(MemctlExpo *x, const char *const *labels, uint64_t usec);

/*
 * One histogram of the current family: n upper bounds (ascending, without +Inf), counts[i] the
 * observations in bucket i alone (not cumulative; counts[n] those above the last bound), and the
 * sum of all observations.
 */
void memctl_expo_histogram(MemctlExpo *x, const char *const *labels, const double *bounds,
                           const uint64_t *counts, size_t n, double sum);

/* Ends the exposition ("# EOF" in OpenMetrics). */
void memctl_expo_finish(MemctlExpo *x);

/* The Content-Type of a format. */
const char *memctl_expo_content_type(MemctlExpoFormat format);

/* The format a scraper asks for in its Accept header (NULL: Prometheus text). */
MemctlExpoFormat memctl_expo_negotiate(const char *accept);

/* "prometheus", "openmetrics" or "" (Prometheus); false for anything else. */
bool memctl_expo_format_from_string(const char *s, MemctlExpoFormat *ret);
