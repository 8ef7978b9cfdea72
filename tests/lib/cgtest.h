/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers for integration tests that run on a real cgroup2 hierarchy (in the test VM or natively as
 * root). They assert on failure: a test that cannot set up its cgroups fails, it never skips.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The cgroup2 mount: $MEMCTL_CGROUP_MOUNT or /sys/fs/cgroup. */
const char *cgtest_mount(void);

/*
 * Asserts that cgtest_mount() is cgroup2 with the memory controller available, and explains what
 * is missing otherwise (the wrapper tests/integration/run-test boots a VM when the host has none).
 */
void cgtest_require_cgroup2(void);

/* The kernel threads named psimon: the PSI trigger pollers (on 6.1, one per cgroup with a trigger). */
guint cgtest_psimon_threads(void);

/* How many times a scenario repeats: $MEMCTL_TEST_ITERATIONS, default 10 (0 counts as 1). */
guint cgtest_iterations(void);

/* The path <mount>/<prefix>.<pid>, removed if a previous run left it (memctld makes the root). */
char *cgtest_fresh_root(const char *prefix);

/* Creates a fresh cgroup <mount>/<prefix>.<pid> with +memory in its subtree_control. */
char *cgtest_root_new(const char *prefix);

/* Creates <parent>/<name> and returns its path. */
char *cgtest_mkdir(const char *parent, const char *name);

/* Writes value to <dir>/<file>; returns 0 or -errno (the caller asserts what it expects). */
int cgtest_write(const char *dir, const char *file, const char *value);

/* Reads <dir>/<file> whole; asserts that it can. */
char *cgtest_read(const char *dir, const char *file);

/* Reads a single-value file (memory.current, memory.max: "max" reads as UINT64_MAX). */
uint64_t cgtest_read_u64(const char *dir, const char *file);

/* Reads one key of a flat-keyed file such as memory.events or memory.stat; asserts it exists. */
uint64_t cgtest_read_key(const char *dir, const char *file, const char *key);

/* Moves pid into dir. */
void cgtest_attach(const char *dir, pid_t pid);

/* Removes a test's temporary directory and everything in it (not a cgroup: see below). */
void cgtest_remove_tmpdir(const char *dir);

/* Kills every process below path (cgroup.kill), waits until they are gone, removes the subtree. */
void cgtest_remove_tree(const char *path);

/*
 * A child process parked in a cgroup: forked, moved into dir, then it waits for a command on a pipe.
 * cgtest_child_alloc() makes it fault in `bytes` of anonymous memory and report back when done.
 */
typedef struct {
    pid_t pid;
    int cmd_fd;   /* parent -> child */
    int reply_fd; /* child -> parent */
} CgtestChild;

void cgtest_child_spawn(CgtestChild *c, const char *dir);
/* Asks the child to touch `bytes` more memory; returns at once. */
void cgtest_child_alloc_async(CgtestChild *c, uint64_t bytes);
/* Waits up to timeout_ms for the child's reply; true if it replied, false if it is still busy. */
bool cgtest_child_wait_reply(CgtestChild *c, int timeout_ms);
/* SIGKILLs and reaps the child; returns its wait status. */
int cgtest_child_kill(CgtestChild *c);
