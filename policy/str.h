/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Copies src into dst of `size` bytes (size > 0), truncating, always NUL-terminated. No allocation,
 * no stdio: the core uses it with no free memory. */
void memctl_str_copy(char *dst, size_t size, const char *src);
