/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "daemon/core/api.h"

/*
 * The kill records memctld keeps in memory for ListKills and the metrics: the last `capacity`
 * kills (its own and the kernel's), each with a sequence number that never repeats while the
 * daemon runs, so a client can ask for "everything after N" and notice what it missed.
 */
typedef struct {
    uint64_t seq;
    MemctlCoreEvent e;
    char *message; /* the caller's reason of a manual kill, or NULL */
} MemctlKillEntry;

typedef struct MemctlHistory MemctlHistory;

MemctlHistory *memctl_history_new(guint capacity);
void memctl_history_free(MemctlHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlHistory, memctl_history_free)

/* Records a kill (copies e and message); returns the entry, owned by h until it ages out. */
const MemctlKillEntry *memctl_history_add(MemctlHistory *h, const MemctlCoreEvent *e, const char *message);

/* A dry run's outcome (MEMCTL_EVENT_OUTCOME): the newest record of that group (and host verdict or
 * not) still "pending" takes it. Returns that entry, or NULL (aged out, or its outcome was known). */
const MemctlKillEntry *memctl_history_settle(MemctlHistory *h, const MemctlCoreEvent *outcome);

/* The entries with seq > since, oldest first (borrowed; valid until the next add). */
GPtrArray *memctl_history_since(MemctlHistory *h, uint64_t since);

/* The newest sequence number (0 before the first kill). */
uint64_t memctl_history_last_seq(const MemctlHistory *h);
