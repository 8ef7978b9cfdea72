/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "daemon/reserve/critical.h"
#include "daemon/group/group.h"
#include "policy/host.h"

/*
 * Boost (WHY.md §3): under host pressure, a registered critical group that reaches its own limit is
 * allowed above it by its registered reserve. The reserve's memory for that registration is freed
 * first (punched out of its memfd), so the memory the group may now use really exists, and only
 * then are its memory.max and memory.high raised by the same amount. Once the host is calm and the
 * group is back under its own limits, they are put back and the registration's memory is allocated
 * again; until then the registration has no lease to give (AcquireReserve: ReserveExhausted).
 *
 * "Under host pressure" is: the host guard is armed (a PSI event) and MemAvailable is below the
 * guard's available_min; a group throttled at its own high arms the guard too, but with memory to
 * spare on the host its limit is its own business. Triggers come from the core's events: the guard
 * armed (then every 100 ms while it stays armed), a critical group crossed high, and the guard
 * disarmed (boosts are taken back, retried every second while a group is still above its own
 * limits). No timer runs while the guard is disarmed and nothing is lent. GLib side. What it does is
 * reported through `report` (the caller logs it).
 */
typedef struct MemctlBoost MemctlBoost;

/* warning: something failed; otherwise a boost given or taken back. */
typedef void (*MemctlBoostReport)(bool warning, const char *message, void *data);

/* proc: the procfs mount (meminfo); host: the guard's settings (available_min). */
MemctlBoost *memctl_boost_new(MemctlCritical *critical, MemctlGroups *groups, const char *proc,
                              const MemctlHostConfig *host, MemctlBoostReport report, void *data);
void memctl_boost_free(MemctlBoost *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlBoost, memctl_boost_free)

/* The host guard armed: while it is and the host is short, every registered critical group at (or
 * within 1/32 of) its limit is boosted. */
void memctl_boost_host_armed(MemctlBoost *b);
/* A group crossed its memory.high: boosted if it is a registered critical group and the host is
 * under pressure. */
void memctl_boost_group_high(MemctlBoost *b, const char *group);
/* The host guard disarmed: boosts are taken back as their groups come under their own limits. */
void memctl_boost_host_calm(MemctlBoost *b);

/* At start, once groups and registrations are back: groups adopted still boosted (memctld stopped
 * before taking a boost back; daemon/group/group.h's mark) get their registration's reserve lent again and
 * are taken back like any other boost, once the host is calm and they are under their own limits. */
void memctl_boost_resume(MemctlBoost *b);

/* Registered reserve lent out: to boosted groups, or not yet taken back. */
uint64_t memctl_boost_lent_bytes(MemctlBoost *b);
