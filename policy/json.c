/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The document's text, which json-c has parsed: only structure, keys and escapes are looked at. json-c
 * (0.16, even with JSON_TOKENER_STRICT) also takes what RFC 8259 does not, strings in single quotes
 * and raw control characters in a string: both are refused here, and every step of the scan consumes
 * input or fails, so text the scan does not expect can never make it loop. */
typedef struct {
    const char *text, *p, *end;
    MemctlJsonProblem *problem;
} Scan;

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

__attribute__((format(printf, 3, 4))) static int scan_fail(Scan *s, const char *path, const char *fmt, ...)
{
    if (s->problem) {
        int line = 1;
        for (const char *q = s->text; q < s->p && q < s->end; q++)
            line += *q == '\n';
        s->problem->line = line;
        snprintf(s->problem->path, sizeof(s->problem->path), "%s", path);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->problem->message, sizeof(s->problem->message), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static void skip_ws(Scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hex4(const char *p, uint32_t *ret)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -EINVAL;
    }
    *ret = v;
    return 0;
}

/*
 * The string at s->p (its opening quote), decoded into a new buffer (*ret, with *ret_len; NULL: not
 * kept). -EINVAL (s->problem filled) for a "\u0000".
 */
static int scan_string(Scan *s, const char *path, char **ret, size_t *ret_len)
{
    if (s->p >= s->end || *s->p != '"')
        return scan_fail(s, path, "not valid JSON: a string or a key must be in double quotes");
    const char *start = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        if ((unsigned char)*s->p < 0x20)
            return scan_fail(s, path, "not valid JSON: a control character in a string must be escaped");
        s->p += *s->p == '\\' ? 2 : 1;
    }
    const char *stop = s->p < s->end ? s->p : s->end;
    s->p = stop + 1;
    char *out = ret ? malloc((size_t)(stop - start) + 1) : NULL;
    if (ret && !out)
        return -ENOMEM;
    size_t n = 0;
    for (const char *q = start; q < stop; q++) {
        char c = *q;
        if (c == '\\' && q + 1 < stop) {
            c = *++q;
            uint32_t cp = 0;
            if (c == 'u' && q + 4 < stop && hex4(q + 1, &cp) == 0) {
                q += 4;
                if (cp == 0) {
                    free(out);
                    s->p = q;
                    return scan_fail(s, path, "\"\\u0000\" in a string or a key (a NUL byte is not text)");
                }
                uint32_t lo;
                if (cp >= 0xd800 && cp <= 0xdbff && q + 6 < stop && q[1] == '\\' && q[2] == 'u' &&
                    hex4(q + 3, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    q += 6;
                }
                if (out) { /* UTF-8, enough to compare keys */
                    if (cp < 0x80) {
                        out[n++] = (char)cp;
                    } else if (cp < 0x800) {
                        out[n++] = (char)(0xc0 | cp >> 6);
                        out[n++] = (char)(0x80 | (cp & 0x3f));
                    } else if (cp < 0x10000) {
                        out[n++] = (char)(0xe0 | cp >> 12);
                        out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                        out[n++] = (char)(0x80 | (cp & 0x3f));
                    } else {
                        out[n++] = (char)(0xf0 | cp >> 18);
                        out[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                        out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                        out[n++] = (char)(0x80 | (cp & 0x3f));
                    }
                }
                continue;
            }
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
        }
        if (out)
            out[n++] = c;
    }
    if (out) {
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
    }
    return 0;
}

typedef struct {
    char *key;
    size_t len;
    const char *at; /* where it stands, for the line of an error */
} Key;

static int key_cmp(const void *a, const void *b)
{
    const Key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int scan_value(Scan *s, const char *path, int depth);

static void join(char *buf, size_t size, const char *base, const char *key, size_t len)
{
    snprintf(buf, size, "%s%s%.*s", base, *base ? "." : "", (int)len, key);
}

static int scan_object(Scan *s, const char *path, int depth)
{
    s->p++; /* '{' */
    Key *keys = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p == '}')
            break;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            Key *k = realloc(keys, cap * sizeof(*k));
            if (!k) {
                r = -ENOMEM;
                break;
            }
            keys = k;
        }
        const char *at = s->p;
        char *key = NULL;
        size_t len = 0;
        if ((r = scan_string(s, path, &key, &len)) < 0)
            break;
        keys[n++] = (Key){key, len, at};
        char sub[sizeof(s->problem->path)];
        join(sub, sizeof(sub), path, key, len);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
            r = scan_fail(s, sub, "not valid JSON: ':' expected after the key");
            break;
        }
        s->p++;
        if ((r = scan_value(s, sub, depth + 1)) < 0)
            break;
    }
    if (r == 0 && s->p < s->end)
        s->p++; /* '}' */
    if (r == 0 && n > 1) {
        const char *after = s->p;
        qsort(keys, n, sizeof(*keys), key_cmp);
        for (size_t i = 1; i < n && r == 0; i++)
            if (key_cmp(&keys[i - 1], &keys[i]) == 0) {
                const Key *later = keys[i].at > keys[i - 1].at ? &keys[i] : &keys[i - 1];
                char sub[sizeof(s->problem->path)];
                join(sub, sizeof(sub), path, later->key, later->len);
                s->p = later->at;
                r = scan_fail(s, sub, "the key is given twice in one object");
            }
        if (r == 0)
            s->p = after;
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i].key);
    free(keys);
    return r;
}

static int scan_value(Scan *s, const char *path, int depth)
{
    if (depth > 64)
        return scan_fail(s, path, "nested more than 64 levels deep");
    skip_ws(s);
    if (s->p >= s->end)
        return 0;
    if (*s->p == '{')
        return scan_object(s, path, depth);
    if (*s->p == '"')
        return scan_string(s, path, NULL, NULL);
    if (*s->p == '[') {
        s->p++;
        for (size_t i = 0;; i++) {
            skip_ws(s);
            if (s->p >= s->end || *s->p == ']')
                break;
            if (*s->p == ',') {
                s->p++;
                i--;
                continue;
            }
            char sub[sizeof(s->problem->path)];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            int r = scan_value(s, sub, depth + 1);
            if (r < 0)
                return r;
        }
        if (s->p < s->end)
            s->p++;
        return 0;
    }
    /* a number, true, false or null */
    const char *start = s->p;
    while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
        s->p++;
    if (s->p == start)
        return scan_fail(s, path, "not valid JSON: a value expected");
    return 0;
}

int memctl_json_parse(const char *text, size_t len, json_object **ret, MemctlJsonProblem *ret_problem)
{
    if (ret_problem)
        *ret_problem = (MemctlJsonProblem){0};
    if (len > INT32_MAX)
        return ret_problem
                       ? (snprintf(ret_problem->message, sizeof(ret_problem->message), "too large"), -EINVAL)
                       : -EINVAL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    _cleanup_json_ json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    Scan s = {.text = text, .p = text + (off < len ? off : len), .end = text + len, .problem = ret_problem};
    if (jerr != json_tokener_success || !root)
        return scan_fail(&s, "", "not valid JSON: %s",
                         jerr == json_tokener_continue ? "unexpected end of file"
                                                       : json_tokener_error_desc(jerr));
    skip_ws(&s);
    if (s.p < s.end)
        return scan_fail(&s, "", "trailing text after the JSON document");
    s.p = text;
    int r = scan_value(&s, "", 0);
    if (r < 0)
        return r;
    *ret = root;
    root = NULL;
    return 0;
}
