/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Copies src into dst of `size` bytes (size > 0), truncating, always NUL-terminated. No allocation,
 * no stdio: the core uses it with no free memory. */
void memctl_str_copy(char *dst, size_t size, const char *src);

/* In text of "key<sep>value" lines (memory.events "oom 1", /proc/<pid>/status "Tgid:\t42"): what
 * follows key and sep on the first line that starts with them, or NULL. Whole lines only: a key
 * inside another line (a process name, say) is never found. */
const char *memctl_str_line_value(const char *text, const char *key, char sep);

/* Longest memctl_str_escape() output for a process name (15 bytes, each as \xNN) with its NUL. */
#define MEMCTL_STR_ESCAPED_COMM_MAX 64

/*
 * Text someone else chose (a process name: prctl lets it be any bytes, and the kernel cuts it at 15
 * bytes, maybe inside a character) made safe for logs, JSON and D-Bus strings, as systemd shows such
 * names: valid, printable UTF-8 is kept, a backslash is doubled, every other byte (control characters,
 * DEL, bytes of an invalid or cut sequence) is written \xNN. Reads up to `len` bytes of s (stops at a
 * NUL), writes at most size - 1 characters and a NUL (cutting only between whole escapes), returns buf.
 */
const char *memctl_str_escape(const char *s, size_t len, char *buf, size_t size);
