/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Aligned text tables in the style of systemctl: an upper-case header line (the "legend"), then
 * rows; columns are left-aligned unless marked right-aligned. Cells are copied.
 */
typedef struct Table Table;

/* columns: header names; a leading '>' marks a right-aligned column (">CURRENT"). */
Table *table_new(const char *const *columns, size_t n);
void table_free(Table *t);
/* Adds one row of n cells (NULL prints "-"). Returns 0 or -ENOMEM. */
int table_add_row(Table *t, const char *const *cells);
size_t table_rows(const Table *t);
/* Prints the table; legend=false leaves out the header. Returns 0 or -errno. */
int table_print(const Table *t, FILE *f, bool legend);

static inline void table_freep(Table **t)
{
    if (*t)
        table_free(*t);
}
#define _cleanup_table_ __attribute__((cleanup(table_freep)))
