/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Memory owned by a scope: `_cleanup_free_ char *s = strdup(...);` frees it on every exit. The
 * owner of a type with its own free function defines its own _cleanup_<type>_ next to that function
 * (json.h, api.h, ring.h, state.h, policy-file.h); fds have theirs in fd-util.h, stdio streams
 * _cleanup_fclose_ here.
 */

#include <stdio.h>
#include <stdlib.h>

static inline void memctl_freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(memctl_freep)))

static inline void memctl_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
#define _cleanup_fclose_ __attribute__((cleanup(memctl_fclosep)))
