/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "include/memctl/client.h"

/*
 * A container as an OCI runtime describes it to a hook: the state JSON the runtime writes on the
 * hook's stdin and the bundle's config.json. Pure (no I/O): the hook (client/oci.c) reads the texts,
 * and the fuzz target feeds them. The first problem found is kept, naming the field.
 */
typedef struct {
    const char *id, *status, *bundle; /* the state's (borrowed from it) */
    int64_t pid;
    json_object *state, *config;
    json_object *annotations; /* config's, then the state's over them (borrowed; may be NULL) */
    bool required;            /* org.memctl.required=true: a problem fails the container */
    bool group_from_pid;      /* the hook found the cgroup in /proc/<pid>/cgroup, not in the config */
    char *problem;            /* the first problem found (owned) */
} MemctlOciSpec;

/* Records a problem (the first one stays); returns -EINVAL. */
int memctl_oci_spec_problem(MemctlOciSpec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void memctl_oci_spec_clear(MemctlOciSpec *s);

/* The state on stdin: id, status and an absolute bundle are required, pid optional. 0 or -errno. */
int memctl_oci_spec_state(MemctlOciSpec *s, const char *text, size_t len);
/* The bundle's config.json (`what` names it in problems). 0 or -errno. */
int memctl_oci_spec_config(MemctlOciSpec *s, const char *text, size_t len, const char *what);

/* An annotation: the state's (runtimes copy them from config.json), else config.json's; or NULL. */
const char *memctl_oci_spec_annotation(const MemctlOciSpec *s, const char *key);
/* config.json's member at the path keys ("linux", "cgroupsPath", NULL), or NULL. */
json_object *memctl_oci_spec_config_at(const MemctlOciSpec *s, const char *const *keys);

/* What CreateGroup gets for the container, and what it claims. */
typedef struct {
    MemctlSetting s[40];
    char buf[40][32];
    size_t n;
    bool critical;    /* org.memctl.critical=true */
    uint64_t reserve; /* org.memctl.reserve, bytes */
} MemctlOciSettings;

/* linux.resources.memory (limit -> limit, reservation -> low, swap -> swap_max = swap - limit),
 * linux.resources.unified's memory.* files and the annotations, each checked. 0 or -errno. */
int memctl_oci_spec_settings(MemctlOciSpec *s, MemctlOciSettings *ret);
