/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "client/table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct Table {
    size_t ncols, nrows, cap;
    char **header;
    bool *right;
    char **cells; /* nrows * ncols */
};

Table *table_new(const char *const *columns, size_t n)
{
    Table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = n;
    t->header = calloc(n, sizeof(char *));
    t->right = calloc(n, sizeof(bool));
    if (!t->header || !t->right) {
        table_free(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        t->right[i] = columns[i][0] == '>';
        if (!(t->header[i] = strdup(columns[i] + (t->right[i] ? 1 : 0)))) {
            table_free(t);
            return NULL;
        }
    }
    return t;
}

void table_free(Table *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->header && i < t->ncols; i++)
        free(t->header[i]);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->header);
    free(t->right);
    free(t->cells);
    free(t);
}

int table_add_row(Table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof(char *));
        if (!grown)
            return -ENOMEM;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "-");
        if (!row[i]) {
            while (i-- > 0)
                free(row[i]);
            return -ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

size_t table_rows(const Table *t)
{
    return t->nrows;
}

static void print_row(const Table *t, FILE *f, char *const *cells, const size_t *width)
{
    for (size_t i = 0; i < t->ncols; i++) {
        bool last = i + 1 == t->ncols;
        if (t->right[i])
            fprintf(f, "%*s", (int)width[i], cells[i]);
        else if (last)
            fputs(cells[i], f); /* no trailing blanks */
        else
            fprintf(f, "%-*s", (int)width[i], cells[i]);
        fputs(last ? "\n" : " ", f);
    }
}

int table_print(const Table *t, FILE *f, bool legend)
{
    size_t *width = calloc(t->ncols, sizeof(size_t));
    if (!width)
        return -ENOMEM;
    for (size_t i = 0; i < t->ncols; i++) {
        width[i] = legend ? strlen(t->header[i]) : 0;
        for (size_t r = 0; r < t->nrows; r++) {
            size_t w = strlen(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    }
    if (legend)
        print_row(t, f, t->header, width);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(t, f, t->cells + r * t->ncols, width);
    free(width);
    return ferror(f) ? -EIO : 0;
}
