/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "policy/limits.h"

/*
 * The limits dictionary of CreateGroup and SetLimits (a{sv}) into MemctlLimits: the policy-file
 * keys with text, integer or boolean values, and "unified", a map of raw memory.* files as an OCI
 * runtime passes them; and "slice" (s), the group's systemd-style display name, into *ret_slice
 * (NULL when not given; "" clears it). Every problem is a MEMCTL_ERROR_INVALID_ARGUMENT that names
 * the key; *ret and *ret_slice are untouched on failure.
 */
int memctl_settings_from_variant(GVariant *dict, MemctlLimits *ret, char **ret_slice, GError **error);
