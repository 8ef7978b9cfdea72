/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "include/memctl/client.h"
#include "policy/json.h"

/* What the command line gave, shared by the verbs (verbs.c, watch.c). */
typedef struct {
    bool json, legend, follow, kill, one, oom_group, openmetrics;
    const char *textfile_dir; /* metrics: write DIR/memctl.prom */
    const char *reason;
    uint64_t since;
    long iterations; /* top: frames to print, 0 = until interrupted */
    double delay;    /* top: seconds between frames */
    uint32_t pid;    /* reserve: --pid */
    MemctlSetting settings[32];
    size_t n_settings;
} CliArgs;

/* Exit codes, like systemctl's. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_INVALID = 2, CLI_EXIT_NO_SUCH_GROUP = 4 };

/* Prints the daemon's (or the transport's) error for r to stderr and returns the exit code. */
int cli_fail(MemctlClient *c, int r, const char *what);
/* Prints o (and drops it): compact JSON on one line. */
void cli_print_json(json_object *o);
/* A size for people ("512.0M", "max") into buf. */
const char *cli_size(uint64_t bytes, char buf[static 16]);
/* A size for JSON: the number of bytes, or null for "max". */
json_object *cli_json_size(uint64_t bytes);
/* A PSI percentage (avg10, two decimals as the kernel gives it) for JSON: 0.72, not 0.7199999. */
json_object *cli_json_percent(double pct);

/* The groups as ListGroups gives them, as a JSON array (list --json, top --json). */
json_object *cli_groups_json(const MemctlGroupInfo *g, size_t n);

typedef int (*CliVerb)(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_status(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_list(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_show(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_suggest(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_create(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_set(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_attach(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_remove(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_kill(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_reload(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_kills(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_top(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_reserve(MemctlClient *c, const CliArgs *a, int argc, char **argv);
int verb_metrics(MemctlClient *c, const CliArgs *a, int argc, char **argv);
/* memctl oci-hook [STAGE] (client/oci.c): connects by itself, and fails only when the container's
 * annotation org.memctl.required=true says so. */
int cli_oci_hook(const char *address, int argc, char **argv);

/* The library's clear functions take a pointer to the struct: usable as cleanups as they are. */
#define _cleanup_status_ __attribute__((cleanup(memctl_status_clear)))
#define _cleanup_group_info_ __attribute__((cleanup(memctl_group_info_clear)))
