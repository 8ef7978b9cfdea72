/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/memctl/memctl.h"
#include "policy/policy-field.h"
#include "policy/host.h"
#include "policy/limits.h"
#include "policy/progress.h"
#include "policy/victim.h"

/*
 * Policy files (docs/POLICY-FILES.md, docs/memctld.schema.json): JSON documents that declare the
 * daemon's settings, the defaults and the groups. Several documents (memctld.json, then the
 * drop-ins of policy.d/ in name order) are overlaid one after the other: a later document replaces
 * the keys it gives and keeps the others; a prefer/avoid list is replaced whole.
 *
 * No I/O: the caller reads the files and passes their text. Unknown keys are errors. Every error
 * names the document, the JSON path ("groups.web.limit") and what is wrong.
 */

#define MEMCTL_POLICY_LIST_MAX 16  /* entries in one prefer or avoid list */
#define MEMCTL_POLICY_FILES_MAX 64 /* documents in one policy */
#define MEMCTL_POLICY_GROUPS_MAX 4096
#define MEMCTL_POLICY_PATH_MAX 256  /* root, state file, kill log */
#define MEMCTL_POLICY_CLAIMS_MAX 64 /* patterns in daemon.critical_claims */
#define MEMCTL_POLICY_PATTERN_MAX 128

typedef struct {
    uint32_t n_comm, n_cgroup;
    char comm[MEMCTL_POLICY_LIST_MAX][MEMCTL_COMM_MAX];
    /* groups relative to the declaring group ("batch" in group "tenants" is "tenants/batch") */
    char cgroup[MEMCTL_POLICY_LIST_MAX][MEMCTL_GROUP_NAME_MAX + 1];
} MemctlMatchList;

/* Per-group overrides of the progress verdict; 0 means "the default". */
typedef struct {
    uint32_t stall_budget_pct;
    uint32_t stall_windows;
} MemctlBudget;

typedef struct {
    char name[MEMCTL_GROUP_NAME_MAX + 1];
    MemctlLimits limits;
    MemctlMatchList prefer, avoid;
    MemctlBudget budget;
    char slice[MEMCTL_SLICE_NAME_MAX + 1]; /* systemd-style display name; "" if none */
    /* run at a kill verdict while the group is frozen (prekill_timeout); "" if none: policy files only */
    char prekill_exec[MEMCTL_POLICY_PATH_MAX];
    /* the document that last set each key (index into MemctlPolicy.files), for error messages */
    uint8_t origin[_MEMCTL_KEY_COUNT];
    uint8_t origin_any;
} MemctlGroupPolicy;

enum {
    MEMCTL_DAEMON_ROOT = 1u << 0,
    MEMCTL_DAEMON_RESERVE = 1u << 1,
    MEMCTL_DAEMON_METRICS = 1u << 2,
    MEMCTL_DAEMON_STATE_FILE = 1u << 3,
    MEMCTL_DAEMON_KILL_LOG = 1u << 4,
    MEMCTL_DAEMON_WINDOW = 1u << 5,
    MEMCTL_DAEMON_STUCK = 1u << 6,
    MEMCTL_DAEMON_CLAIMS = 1u << 7,
    MEMCTL_DAEMON_DRY_RUN = 1u << 8,
    MEMCTL_DAEMON_RECLAIM_INTERVAL = 1u << 9,
};

typedef struct {
    uint32_t set; /* MEMCTL_DAEMON_* for every key given */
    char root[MEMCTL_POLICY_PATH_MAX];
    uint64_t reserve;
    char metrics_address[64]; /* "127.0.0.1:9750", "[::1]:9750", or "" (off) */
    char state_file[MEMCTL_POLICY_PATH_MAX];
    char kill_log[MEMCTL_POLICY_PATH_MAX];
    uint32_t window_ms, stuck_windows;
    bool dry_run;                 /* record the kills it would make, make none (a reload switches it) */
    uint32_t reclaim_interval_ms; /* proactive reclaim's interval (0: not given, the default) */
    /* which groups may claim critical status from untrusted metadata (ClaimCritical, an OCI
     * annotation): shell patterns (fnmatch, '*' within one level) over a group's name or its slice */
    char claims[MEMCTL_POLICY_CLAIMS_MAX][MEMCTL_POLICY_PATTERN_MAX];
    size_t n_claims;

    /* defaults for every group */
    uint32_t priority;
    uint64_t progress_floor;
    MemctlBudget budget;

    MemctlHostConfig host;

    MemctlGroupPolicy *groups; /* sorted by name */
    size_t n_groups;

    char *files[MEMCTL_POLICY_FILES_MAX];
    size_t n_files;
} MemctlPolicy;

/* An empty policy: the built-in defaults, no groups. */
void memctl_policy_init(MemctlPolicy *p);
void memctl_policy_clear(MemctlPolicy *p);
static inline void memctl_policy_clearp(MemctlPolicy *p)
{
    memctl_policy_clear(p);
}
#define _cleanup_policy_ __attribute__((cleanup(memctl_policy_clearp)))

/*
 * Overlays one document (NUL-terminated JSON text; `file` names it in errors) on *p. On failure
 * returns -EINVAL (or -ENOMEM), fills *ret_error and leaves *p as it was.
 */
int memctl_policy_add(MemctlPolicy *p, const char *file, const char *text, MemctlPolicyError *ret_error);

/*
 * Checks what only the merged result can tell: each group's limits (min <= low <= high <= max,
 * limit and max exclusive, ...), prefer/avoid groups that name real descendants, and that a
 * declared parent's min holds its declared children's. Errors name the document that set the key.
 */
int memctl_policy_check(const MemctlPolicy *p, MemctlPolicyError *ret_error);

/* The group declared under name, or NULL. */
const MemctlGroupPolicy *memctl_policy_group(const MemctlPolicy *p, const char *name);

/* True if a group of this name, or with this slice (NULL or "" for none), may claim critical status:
 * one of p's daemon.critical_claims patterns matches either. */
bool memctl_policy_claim_allowed(const MemctlPolicy *p, const char *group, const char *slice);

/* True if a and b declare the same prefer/avoid lists, budgets and pre-kill executable (limits
 * compared elsewhere). */
bool memctl_group_policy_same_extras(const MemctlGroupPolicy *a, const MemctlGroupPolicy *b);
