/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/str.h"

#include <stdint.h>
#include <string.h>

void memctl_str_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *memctl_str_line_value(const char *text, const char *key, char sep)
{
    size_t klen = strlen(key);
    for (const char *l = text; l && *l;) {
        if (strncmp(l, key, klen) == 0 && l[klen] == sep)
            return l + klen + 1;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return NULL;
}

/* The length of the valid UTF-8 sequence at p (at most `left` bytes), or 0. Overlong forms,
 * surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    /* C1 controls (U+0080..U+009F) are not printable either */
    if (n == 2 && cp < 0xa0)
        return 0;
    return n;
}

const char *memctl_str_escape(const char *s, size_t len, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0, o = 0;
    while (n < len && p[n])
        n++;
    for (size_t i = 0; i < n;) {
        size_t seq = utf8_sequence(p + i, n - i);
        char tmp[4];
        size_t w;
        if (seq == 1 && p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\') {
            tmp[0] = (char)p[i];
            w = 1;
        } else if (seq == 1 && p[i] == '\\') {
            tmp[0] = tmp[1] = '\\';
            w = 2;
        } else if (seq > 1) {
            memcpy(tmp, p + i, seq);
            w = seq;
        } else {
            tmp[0] = '\\';
            tmp[1] = 'x';
            tmp[2] = hex[p[i] >> 4];
            tmp[3] = hex[p[i] & 0xf];
            w = 4;
            seq = 1;
        }
        if (o + w >= size)
            break;
        memcpy(buf + o, tmp, w);
        o += w;
        i += seq;
    }
    buf[o] = '\0';
    return buf;
}
