/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* basic/str.c: process names as someone else chose them, made safe for logs, JSON and D-Bus. */
#include <glib.h>
#include <string.h>

#include "basic/str.h"

static const char *esc(const char *s, size_t len, char *buf, size_t size)
{
    return memctl_str_escape(s, len, buf, size);
}

static void test_escape(void)
{
    char b[MEMCTL_STR_ESCAPED_COMM_MAX];
    g_assert_cmpstr(esc("memhog", 16, b, sizeof(b)), ==, "memhog");
    g_assert_cmpstr(esc("", 16, b, sizeof(b)), ==, "");
    g_assert_cmpstr(esc("a\\b", 16, b, sizeof(b)), ==, "a\\\\b");
    g_assert_cmpstr(esc("tab\there\n", 16, b, sizeof(b)), ==, "tab\\x09here\\x0a");
    g_assert_cmpstr(esc("del\x7f", 16, b, sizeof(b)), ==, "del\\x7f");
    /* valid UTF-8 stays; invalid bytes, a sequence cut by the kernel's 15 bytes, surrogates, overlong
     * forms and C1 controls do not */
    g_assert_cmpstr(esc("\xc2\xb5s-\xe2\x82\xac", 16, b, sizeof(b)), ==, "\xc2\xb5s-\xe2\x82\xac");
    g_assert_cmpstr(esc("\xff\xfehog\xe2\x82", 16, b, sizeof(b)), ==, "\\xff\\xfehog\\xe2\\x82");
    g_assert_cmpstr(esc("\xed\xa0\x80", 16, b, sizeof(b)), ==, "\\xed\\xa0\\x80");
    g_assert_cmpstr(esc("\xc0\xaf", 16, b, sizeof(b)), ==, "\\xc0\\xaf");
    g_assert_cmpstr(esc("\xc2\x85", 16, b, sizeof(b)), ==, "\\xc2\\x85");
    g_assert_cmpstr(esc("\xf4\x90\x80\x80", 16, b, sizeof(b)), ==, "\\xf4\\x90\\x80\\x80");
    /* the worst 15 bytes fit the buffer whole */
    g_assert_cmpstr(esc("\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12", 16, b, sizeof(b)), ==,
                    "\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x0b\\x0c\\x0e\\x0f\\x10\\x11\\x12");
    /* len bounds what is read (a comm array without a NUL); a small buffer cuts between escapes */
    char raw[4] = {'a', 'b', 'c', 'd'};
    g_assert_cmpstr(esc(raw, 3, b, sizeof(b)), ==, "abc");
    char small[7];
    g_assert_cmpstr(esc("\xff\xff", 2, small, sizeof(small)), ==, "\\xff");
    g_assert_true(g_utf8_validate(esc("\xe2\x28\xa1\xf0\x28\x8c\x28", 16, b, sizeof(b)), -1, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/str/escape", test_escape);
    return g_test_run();
}
