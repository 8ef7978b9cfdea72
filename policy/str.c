/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/str.h"

#include <string.h>

void memctl_str_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
