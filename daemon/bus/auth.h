/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

/*
 * Who may change things. Mutating calls are allowed for uid 0, for members of the admin group
 * (by the caller's credentials as the bus daemon saw them at connect time), and, where polkitd
 * runs, for callers polkit authorizes for the verb's action (org.memctl.<verb>). Everything is
 * asynchronous: the main loop never waits on the bus daemon or polkit.
 */
typedef struct {
    gid_t admin_gid; /* (gid_t)-1: no admin group */
    gboolean polkit; /* ask polkit when the caller is neither root nor admin */
} MemctlAuthConfig;

/*
 * Checks the sender of `invocation` for `action` ("create-group", ...). Completes with TRUE, or
 * FALSE and a MEMCTL_ERROR_ACCESS_DENIED error that says what was missing.
 */
void memctl_auth_check_async(const MemctlAuthConfig *cfg, GDBusMethodInvocation *invocation,
                             const char *action, GAsyncReadyCallback callback, gpointer user_data);
gboolean memctl_auth_check_finish(GAsyncResult *result, GError **error);
