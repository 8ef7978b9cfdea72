/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "max": no limit. The kernel prints it for unlimited memory.* values. */
#define MEMCTL_SIZE_MAX UINT64_MAX

/* Longest string memctl_size_format() writes, with its NUL. */
#define MEMCTL_SIZE_FORMAT_MAX 16

/*
 * Parses a size given by a person or a policy file: bytes ("1048576"), or a number with a binary
 * suffix K, M, G or T (1024-based, optionally followed by "iB" or "B", a fraction allowed:
 * "1.5G"), or "max". Surrounding white space is not accepted.
 * Returns 0 and sets *ret_bytes, -EINVAL on malformed input, -ERANGE when it does not fit 64 bits.
 */
int memctl_size_parse(const char *s, uint64_t *ret_bytes);

/*
 * Parses the content of a cgroup memory.* value file ("max\n" or a decimal byte count, with the
 * kernel's trailing newline). Returns 0, -EINVAL or -ERANGE.
 */
int memctl_size_parse_kernel(const char *s, uint64_t *ret_bytes);

/* The smaller of two sizes, and a sum that saturates at MEMCTL_SIZE_MAX instead of wrapping. */
static inline uint64_t memctl_size_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static inline uint64_t memctl_size_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Formats bytes for people: "512.0M", "1.5G", "812B", "max". Never fails; returns buf. */
const char *memctl_size_format(uint64_t bytes, char buf[static MEMCTL_SIZE_FORMAT_MAX]);
