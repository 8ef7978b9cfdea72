/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Victim choice. Pure functions over caller-provided arrays: they never allocate, so the daemon's
 * core calls them when the host has no free memory.
 */

#define MEMCTL_COMM_MAX 16 /* TASK_COMM_LEN */

enum {
    MEMCTL_CAND_CRITICAL = 1u << 0, /* a registered critical client: never a victim */
    MEMCTL_CAND_SELF = 1u << 1,     /* memctld itself: never a victim */
    MEMCTL_CAND_PREFER = 1u << 2,   /* on the group's prefer list: chosen before all others */
    MEMCTL_CAND_AVOID = 1u << 3,    /* on the group's avoid list: chosen only when nothing else is left */
    MEMCTL_CAND_GONE = 1u << 4,     /* vanished while being sampled */
    MEMCTL_CAND_DYING = 1u << 5,    /* SIGKILL already pending: killing it again frees nothing */
};

typedef struct {
    int32_t pid;
    int16_t oom_score_adj; /* -1000 .. 1000; -1000 is never killed */
    uint32_t flags;
    uint64_t anon_bytes; /* RssAnon */
    uint64_t swap_bytes; /* VmSwap */
    char comm[MEMCTL_COMM_MAX];
} MemctlCandidate;

/* True if c may be killed at all. */
bool memctl_victim_eligible(const MemctlCandidate *c);

/* True if a kill of c's whole group must leave c alive: a critical client, memctld, PID 1, or
 * oom_score_adj -1000 (the kernel's memory.oom.group spares those too). Such a group is never killed
 * with cgroup.kill: its other processes are killed one by one. */
bool memctl_victim_spared(const MemctlCandidate *c);

/*
 * The badness the within-group choice ranks by: anon + swap, shifted by oom_score_adj the way the
 * kernel does it (adj/1000 of `scale_bytes`, the group's limit or usage). Never below 1 for an
 * eligible candidate, 0 for an ineligible one.
 */
uint64_t memctl_victim_badness(const MemctlCandidate *c, uint64_t scale_bytes);

/*
 * Picks the victim within a group: preferred candidates first, avoided ones last, then the largest
 * badness; ties go to the higher pid (the younger process). Returns 0 and sets *ret_index, or
 * -ESRCH when no candidate is eligible.
 */
int memctl_victim_pick(const MemctlCandidate *c, size_t n, uint64_t scale_bytes, size_t *ret_index);

/* True if comm is one of the n names in list (exact match; comm is at most 15 characters). */
bool memctl_victim_comm_in(const char *comm, const char *const *list, size_t n);

enum {
    MEMCTL_GCAND_CRITICAL = 1u << 0, /* holds a critical client: never chosen across groups */
    MEMCTL_GCAND_BUSY = 1u << 1,     /* a victim's memory is still being released: skip it */
    MEMCTL_GCAND_EMPTY = 1u << 2,    /* no processes */
};

typedef struct {
    uint64_t current;  /* memory.current */
    uint64_t min, low; /* effective protection (memory.min, memory.low) */
    uint32_t priority; /* 1 (killed first) .. 100 (killed last) */
    uint32_t flags;
} MemctlGroupCandidate;

/* Usage above effective protection, times (101 - priority); 0 if the group may not be chosen. */
uint64_t memctl_victim_group_score(const MemctlGroupCandidate *g);

/*
 * Picks the group to kill in under host pressure: the largest score; ties to the larger current,
 * then to the lower index (the caller's order is stable). Returns 0, or -ESRCH if no group scores.
 */
int memctl_victim_pick_group(const MemctlGroupCandidate *g, size_t n, size_t *ret_index);
