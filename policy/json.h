/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/*
 * JSON documents from outside (policy files, the state file, an OCI runtime's state and config)
 * parsed strictly: json-c in strict mode with UTF-8 checked, then the text itself scanned for what
 * json-c would take silently: a key given twice in one object (json-c keeps the last), and a
 * "\u0000" in a key or a string (json-c cuts the C string there). Cold path: it allocates.
 */
typedef struct {
    int line;       /* 1-based; 0 when the problem is the whole document */
    char path[256]; /* JSON path of the problem ("groups.web.limit", "critical[2]"); "" for the top */
    char message[128];
} MemctlJsonProblem;

/*
 * Parses text[0, len). 0 and *ret (the caller's to put), or -EINVAL with *ret_problem filled (or
 * -ENOMEM). Not valid JSON, trailing text after the document, invalid UTF-8, a duplicate key and
 * "\u0000" are errors. ret untouched on failure.
 */
int memctl_json_parse(const char *text, size_t len, json_object **ret, MemctlJsonProblem *ret_problem);

static inline void memctl_json_putp(json_object **o)
{
    if (*o)
        json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(memctl_json_putp)))
