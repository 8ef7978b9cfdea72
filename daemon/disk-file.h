/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stddef.h>

/*
 * The files memctld keeps on disk (the policy files, the state file), as opposed to the kernel's:
 * read with bounds, replaced whole. GLib side; errors name the file.
 */

/* The policy files and the state file are read whole up to this size. */
#define MEMCTL_DISK_FILE_MAX (4u << 20)

/*
 * Reads a file memctld was told to trust, with bounds all the same: a regular file only (a FIFO would
 * block the main loop, a link to /dev/zero never end), at most `max` bytes. 0 with the text (NUL
 * terminated; free with g_free()), -ENOENT (error untouched) when it is not there, or -errno with
 * *error naming the file.
 */
int memctl_disk_read(const char *path, size_t max, char **ret_text, size_t *ret_len, GError **error);

/*
 * Replaces path with text so that a crash at any point leaves the old file or the new one, whole: a
 * temporary file beside it, written and fsynced, renamed over it, and the directory fsynced so that
 * the rename itself is on disk.
 */
int memctl_disk_write_atomic(const char *path, const char *text, GError **error);
