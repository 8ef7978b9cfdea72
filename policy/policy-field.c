/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/policy-field.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/size.h"
#include "basic/str.h"

int memctl_field_fail(const MemctlFieldDoc *d, const char *path, const char *fmt, ...)
{
    if (d->err) {
        memctl_str_copy(d->err->file, sizeof(d->err->file), d->label);
        memctl_str_copy(d->err->path, sizeof(d->err->path), path);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err->message, sizeof(d->err->message), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

const char *memctl_field_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a fraction";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "?";
}

void memctl_field_join(char *buf, size_t size, const char *base, const char *key)
{
    MEMCTL_FIELD_TRUNC_OK(snprintf(buf, size, "%s%s%s", base, *base ? "." : "", key));
}

/* Unknown keys are errors: `allowed` is NULL-terminated. */
int memctl_field_check_keys(const MemctlFieldDoc *d, const char *path, json_object *o,
                            const char *const *allowed)
{
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            char p[sizeof(d->err->path)];
            memctl_field_join(p, sizeof(p), path, key);
            return memctl_field_fail(d, p, "unknown key");
        }
    }
    return 0;
}

int memctl_field_want_object(const MemctlFieldDoc *d, const char *path, json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return memctl_field_fail(d, path, "expected an object, got %s", memctl_field_type_name(v));
    return 0;
}

int memctl_field_uint(const MemctlFieldDoc *d, const char *path, json_object *v, uint64_t lo, uint64_t hi,
                      uint32_t *ret)
{
    if (!json_object_is_type(v, json_type_int))
        return memctl_field_fail(d, path, "expected an integer, got %s", memctl_field_type_name(v));
    int64_t x = json_object_get_int64(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        return memctl_field_fail(d, path, "%" PRId64 " is out of range (%" PRIu64 "-%" PRIu64 ")", x, lo, hi);
    *ret = (uint32_t)x;
    return 0;
}

int memctl_field_bool(const MemctlFieldDoc *d, const char *path, json_object *v, bool *ret)
{
    if (!json_object_is_type(v, json_type_boolean))
        return memctl_field_fail(d, path, "expected true or false, got %s", memctl_field_type_name(v));
    *ret = json_object_get_boolean(v);
    return 0;
}

/* A size: a non-negative integer (bytes) or a string ("512M", "max"). Writes its text form. */
int memctl_field_size_text(const MemctlFieldDoc *d, const char *path, json_object *v, char *buf, size_t size)
{
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (x < 0)
            return memctl_field_fail(d, path, "a size cannot be negative");
        if (x == INT64_MAX)
            return memctl_field_fail(d, path, "too large (give sizes above 8 EiB as \"max\")");
        snprintf(buf, size, "%" PRId64, x);
        return 0;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *t = json_object_get_string(v);
        if (strlen(t) >= size)
            return memctl_field_fail(d, path, "'%.20s...' is not a size (longer than %zu characters)", t,
                                     size - 1);
        memctl_str_copy(buf, size, t);
        return 0;
    }
    return memctl_field_fail(d, path,
                             "expected a size (bytes, or a string such as \"512M\" or \"max\"), got %s",
                             memctl_field_type_name(v));
}

int memctl_field_size(const MemctlFieldDoc *d, const char *path, json_object *v, bool allow_max,
                      uint64_t *ret)
{
    char text[64];
    if (memctl_field_size_text(d, path, v, text, sizeof(text)) < 0)
        return -EINVAL;
    uint64_t b;
    int r = memctl_size_parse(text, &b);
    if (r == -ERANGE)
        return memctl_field_fail(d, path, "'%s' is too large", text);
    if (r < 0)
        return memctl_field_fail(d, path, "'%s' is not a size (bytes, or a number with K, M, G or T)", text);
    if (!allow_max && b == MEMCTL_SIZE_MAX)
        return memctl_field_fail(d, path, "'max' is not allowed here");
    *ret = b;
    return 0;
}

int memctl_field_path(const MemctlFieldDoc *d, const char *path, json_object *v, bool allow_empty, char *buf,
                      size_t size)
{
    if (!json_object_is_type(v, json_type_string))
        return memctl_field_fail(d, path, "expected a path (a string), got %s", memctl_field_type_name(v));
    const char *s = json_object_get_string(v);
    if (!*s && allow_empty) {
        buf[0] = '\0';
        return 0;
    }
    if (s[0] != '/')
        return memctl_field_fail(d, path, "'%s' is not an absolute path", s);
    if (strlen(s) >= size)
        return memctl_field_fail(d, path, "longer than %zu characters", size - 1);
    memctl_str_copy(buf, size, s);
    return 0;
}

/* "host:port", "[v6]:port" with a port of 1-65535, or "" (off). */
int memctl_field_address(const MemctlFieldDoc *d, const char *path, json_object *v, char *buf, size_t size)
{
    if (!json_object_is_type(v, json_type_string))
        return memctl_field_fail(d, path, "expected \"address:port\" (a string), got %s",
                                 memctl_field_type_name(v));
    const char *s = json_object_get_string(v);
    if (*s) {
        const char *colon = strrchr(s, ':');
        char *end = NULL;
        long port = colon && colon[1] >= '0' && colon[1] <= '9' ? strtol(colon + 1, &end, 10) : 0;
        bool v6 = s[0] == '[';
        char host[64] = "";
        unsigned char addr[sizeof(struct in6_addr)];
        bool bad = !colon || colon == s || !end || *end || colon[1] == '\0' || port < 1 || port > 65535 ||
                   (v6 && colon[-1] != ']') || (!v6 && memchr(s, ':', (size_t)(colon - s)));
        if (!bad) { /* a numeric address: memctld does not resolve names */
            size_t len = v6 ? (size_t)(colon - s) - 2 : (size_t)(colon - s);
            bad = len >= sizeof(host);
            if (!bad) {
                memcpy(host, s + (v6 ? 1 : 0), len);
                host[len] = '\0';
                bad = inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1;
            }
        }
        if (bad)
            return memctl_field_fail(
                    d, path,
                    "'%s' is not \"address:port\" (a numeric IPv4 address, or IPv6 as [addr]:port; port "
                    "1-65535)",
                    s);
    }
    if (strlen(s) >= size)
        return memctl_field_fail(d, path, "longer than %zu characters", size - 1);
    memctl_str_copy(buf, size, s);
    return 0;
}

/*
 * An array of at most `max` strings at path: each element's text into items (borrowed from a) and its
 * JSON path into paths[i] (paths may be NULL), *ret_n the count. A non-string element is an error
 * naming it.
 */
int memctl_field_strings(const MemctlFieldDoc *d, const char *path, json_object *a, size_t max,
                         const char **items, char (*paths)[sizeof(d->err->path)], size_t *ret_n)
{
    if (!json_object_is_type(a, json_type_array))
        return memctl_field_fail(d, path, "expected an array of strings, got %s", memctl_field_type_name(a));
    size_t n = json_object_array_length(a);
    if (n > max)
        return memctl_field_fail(d, path, "%zu entries; at most %zu", n, max);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        char pi[sizeof(d->err->path)];
        MEMCTL_FIELD_TRUNC_OK(snprintf(pi, sizeof(pi), "%s[%zu]", path, i));
        if (!json_object_is_type(e, json_type_string))
            return memctl_field_fail(d, pi, "expected a string, got %s", memctl_field_type_name(e));
        items[i] = json_object_get_string(e);
        if (paths)
            memcpy(paths[i], pi, sizeof(pi));
    }
    *ret_n = n;
    return 0;
}

const char *memctl_policy_error_format(const MemctlPolicyError *e, char *buf, size_t size)
{
    if (e->path[0])
        snprintf(buf, size, "%s: %s: %s", e->file, e->path, e->message);
    else
        snprintf(buf, size, "%s: %s", e->file, e->message);
    return buf;
}
