/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "policy/policy-file.h"

/* memctld's GError domain; the D-Bus layer maps each code to an org.memctl.Error.* name. */
#define MEMCTL_ERROR (memctl_error_quark())
GQuark memctl_error_quark(void);

typedef enum {
    MEMCTL_ERROR_FAILED,
    MEMCTL_ERROR_INVALID_ARGUMENT, /* the message names the key or field */
    MEMCTL_ERROR_NO_SUCH_GROUP,
    MEMCTL_ERROR_BUSY,
    MEMCTL_ERROR_ACCESS_DENIED,
    MEMCTL_ERROR_RESERVE_EXHAUSTED,
    MEMCTL_ERROR_INVALID_POLICY, /* a policy file: the message names the file, the JSON path and why */
} MemctlError;

/* Sets *error (code in memctld's domain, the message from format) and returns r, a -errno: one
 * statement for the two halves of a failure, `return memctl_error_set(error, -EINVAL, ...);`. r is
 * read before the message is formatted, so `-errno` is the failing call's. */
int memctl_error_set(GError **error, int r, MemctlError code, const char *format, ...) G_GNUC_PRINTF(4, 5);

/* A policy or state file's error (file, JSON path, problem) as MEMCTL_ERROR_INVALID_POLICY; -EINVAL. */
int memctl_error_set_policy(GError **error, const MemctlPolicyError *e);
