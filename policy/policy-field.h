/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/memctl/memctl.h"

/*
 * The typed fields of a policy file's JSON (policy-file.c): each getter checks the type and range of
 * one value and, when it is wrong, fills the document's error with the file, the JSON path and what
 * was expected, and returns -EINVAL. Nothing is allocated.
 */

/* Error paths and messages may be cut short at their buffer's end: they still name the place. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#define MEMCTL_FIELD_TRUNC_OK(x) ((void)(x))

/* A policy or state file's error: which file, where in it, what is wrong. */
#define MEMCTL_POLICY_FILE_NAME_MAX 256
#define MEMCTL_POLICY_JSON_PATH_MAX (MEMCTL_GROUP_NAME_MAX + 64)
typedef struct {
    char file[MEMCTL_POLICY_FILE_NAME_MAX];
    char path[MEMCTL_POLICY_JSON_PATH_MAX]; /* JSON path: "groups.web.limit"; "" for the document */
    char message[256];
} MemctlPolicyError;

/* "file: path: message" (or "file: message") into buf; returns buf. */
const char *memctl_policy_error_format(const MemctlPolicyError *e, char *buf, size_t size);

/* The document being read: its name, and where its error goes (NULL: nowhere). */
typedef struct {
    const char *label;
    MemctlPolicyError *err;
} MemctlFieldDoc;

/* Fills d's error (if it has one) and returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int memctl_field_fail(const MemctlFieldDoc *d, const char *path,
                                                            const char *fmt, ...);
/* "an integer", "a string", ... for messages. */
const char *memctl_field_type_name(json_object *v);
/* base.key (key alone at the top) into buf, cut short if it must. */
void memctl_field_join(char *buf, size_t size, const char *base, const char *key);
/* Unknown keys are errors: `allowed` is NULL-terminated. */
int memctl_field_check_keys(const MemctlFieldDoc *d, const char *path, json_object *o,
                            const char *const *allowed);
int memctl_field_want_object(const MemctlFieldDoc *d, const char *path, json_object *v);
/* An integer in lo..hi. */
int memctl_field_uint(const MemctlFieldDoc *d, const char *path, json_object *v, uint64_t lo, uint64_t hi,
                      uint32_t *ret);
int memctl_field_bool(const MemctlFieldDoc *d, const char *path, json_object *v, bool *ret);
/* A size: a non-negative integer (bytes) or a string ("512M", "max"), as text into buf. */
int memctl_field_size_text(const MemctlFieldDoc *d, const char *path, json_object *v, char *buf, size_t size);
/* A size in bytes; "max" (MEMCTL_SIZE_MAX) only if allow_max. */
int memctl_field_size(const MemctlFieldDoc *d, const char *path, json_object *v, bool allow_max,
                      uint64_t *ret);
/* An absolute path ("" too if allow_empty) that fits buf. */
int memctl_field_path(const MemctlFieldDoc *d, const char *path, json_object *v, bool allow_empty, char *buf,
                      size_t size);
/* "host:port", "[v6]:port" with a numeric address and a port of 1-65535, or "" (off). */
int memctl_field_address(const MemctlFieldDoc *d, const char *path, json_object *v, char *buf, size_t size);
/*
 * An array of at most `max` strings at path: each element's text into items (borrowed from a) and its
 * JSON path into paths[i] (paths may be NULL), *ret_n the count. A non-string element is an error
 * naming it.
 */
int memctl_field_strings(const MemctlFieldDoc *d, const char *path, json_object *a, size_t max,
                         const char **items, char (*paths)[MEMCTL_POLICY_JSON_PATH_MAX], size_t *ret_n);
