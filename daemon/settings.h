/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "policy/limits.h"

/*
 * The limits dictionary of CreateGroup and SetLimits (a{sv}) into MemctlLimits: the policy-file
 * keys with text, integer or boolean values, and "unified", a map of raw memory.* files as an OCI
 * runtime passes them. Every problem is a MEMCTL_ERROR_INVALID_ARGUMENT that names the key;
 * *ret is untouched on failure.
 */
int memctl_settings_from_variant(GVariant *dict, MemctlLimits *ret, GError **error);
