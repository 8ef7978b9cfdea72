/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Definitions shared by the group table (group.c) and what works on it (group-adopt.c, group-limits.c,
 * group-boost.c, group-remove.c). */

#include "daemon/group/group.h"

struct MemctlGroups {
    char *mount;
    char *root;
    char *proc;
    MemctlCore *core;    /* borrowed */
    GHashTable *by_name; /* name -> MemctlGroup* (owned) */
    GHashTable *by_slot; /* slot -> MemctlGroup* (borrowed) */
    MemctlGroupsListener listener;
    void *listener_data;
    MemctlGroupsAdded added;
    void *added_data;
    GPtrArray *removals; /* MemctlRemoval* waiting for their group to empty (borrowed) */
};

/* The cgroup's identity: its directory's inode number (kernfs gives every cgroup a new one), or 0
 * when it is gone. */
uint64_t memctl_group_cgroup_id(const char *path);
/* The same through an fd of the directory. */
uint64_t memctl_group_cgroup_id_at(int dirfd);
void memctl_group_free(MemctlGroup *grp);
/* The managed parent group of name ("a/b" -> "a"), or NULL for a top-level group. */
MemctlGroup *memctl_groups_parent_of(MemctlGroups *g, const char *name);
/* Hands a new group to the core and then enters it in the tables (grp is the caller's until this
 * succeeds). files: the core's files of it, already opened (taken, whatever the outcome), or NULL
 * to open them in grp->path. */
int memctl_groups_add(MemctlGroups *g, MemctlGroup *grp, MemctlCoreGroupFiles *files, GError **error);
/* The memory.* values of the cgroup at path (or in the directory dirfd), and the settings they make. */
void memctl_group_read_back(const char *path, MemctlLimits *ret_limits, MemctlFileValues *ret_applied);
void memctl_group_read_back_at(int dirfd, MemctlLimits *ret_limits, MemctlFileValues *ret_applied);

/* Tells the listener (the config: metrics, bus objects, state file) that something changed. */
void memctl_groups_notify(MemctlGroups *g);
/* The core and the tables let go of a group (grp is freed); the listener is not told. */
void memctl_groups_drop(MemctlGroups *g, MemctlGroup *grp);
/* Tells the core the limits the kernel enforces now (the boost included). */
void memctl_groups_update_core(MemctlGroups *g, MemctlGroup *grp);
/* A setting as its memory.* file takes it ("max", "0"/"1" for oom.group), in buf. */
const char *memctl_group_file_value(MemctlFile f, uint64_t v, char buf[static 24]);
/* What the kernel file holds for a setting of v: high and max carry the group's boost. */
uint64_t memctl_group_boosted(MemctlFile f, uint64_t v, uint64_t boost);

/* The settings a group has when its memory.* files hold these values. */
void memctl_group_limits_from_values(const MemctlFileValues *v, MemctlLimits *ret);
/* Takes `boost` off high and max (those set): the group's own values when the kernel's carry that
 * boost. False (v untouched) when they cannot (a value below the boost, or neither is set). */
bool memctl_group_values_unboost(MemctlFileValues *v, uint64_t boost);

/*
 * A group memctld boosted before it stopped (crashed, or was restarted under host pressure) still
 * runs on the boost: the kernel's high and max are its own plus the boost, and the mark on the
 * cgroup says by how much. Its own settings are taken back out of what the kernel holds, and the
 * boost is kept until it can be taken back as usual. A mark that does not fit what the kernel holds
 * (the limits were changed while memctld was away) is dropped. dirfd: the cgroup's directory.
 */
void memctl_group_adopt_boost(MemctlGroup *grp, int dirfd);
