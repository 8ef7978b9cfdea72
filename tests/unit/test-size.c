/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <glib.h>

#include "basic/size.h"

static void test_parse_accepts(void)
{
    static const struct {
        const char *in;
        uint64_t out;
    } cases[] = {
            {"0", 0},
            {"1", 1},
            {"4096", 4096},
            {"4096B", 4096},
            {"1K", 1024},
            {"1k", 1024},
            {"512M", 512ull << 20},
            {"512MiB", 512ull << 20},
            {"512MB", 512ull << 20},
            {"2G", 2ull << 30},
            {"1.5G", 3ull << 29},
            {"0.5K", 512},
            {"3T", 3ull << 40},
            {"16777215T", 16777215ull << 40},
            {"max", MEMCTL_SIZE_MAX},
            {"infinity", MEMCTL_SIZE_MAX},
            {"18446744073709551614", UINT64_MAX - 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint64_t v = 7;
        g_assert_cmpint(memctl_size_parse(cases[i].in, &v), ==, 0);
        g_assert_cmpuint(v, ==, cases[i].out);
    }
}

static void test_parse_rejects(void)
{
    static const struct {
        const char *in;
        int err;
    } cases[] = {
            {"", -EINVAL},
            {" 1", -EINVAL},
            {"1 ", -EINVAL},
            {"-1", -EINVAL},
            {"+1", -EINVAL},
            {"1X", -EINVAL},
            {"1KK", -EINVAL},
            {"1.5", -EINVAL},
            {"1.G", -EINVAL},
            {".5G", -EINVAL},
            {"1.5B", -EINVAL},
            {"0x10", -EINVAL},
            {"MAX", -EINVAL},
            {"max\n", -EINVAL},
            {"18446744073709551616", -ERANGE},
            {"18446744073709551615", -ERANGE},
            {"16777216T", -ERANGE},
            {"99999999999999999999999999", -ERANGE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint64_t v = 7;
        g_assert_cmpint(memctl_size_parse(cases[i].in, &v), ==, cases[i].err);
        g_assert_cmpuint(v, ==, 7); /* untouched on failure */
    }
    uint64_t v;
    g_assert_cmpint(memctl_size_parse(NULL, &v), ==, -EINVAL);
}

static void test_parse_kernel(void)
{
    uint64_t v = 0;
    g_assert_cmpint(memctl_size_parse_kernel("max\n", &v), ==, 0);
    g_assert_cmpuint(v, ==, MEMCTL_SIZE_MAX);
    g_assert_cmpint(memctl_size_parse_kernel("134217728\n", &v), ==, 0);
    g_assert_cmpuint(v, ==, 134217728);
    g_assert_cmpint(memctl_size_parse_kernel("0", &v), ==, 0);
    g_assert_cmpuint(v, ==, 0);

    v = 7;
    g_assert_cmpint(memctl_size_parse_kernel("", &v), ==, -EINVAL);
    g_assert_cmpint(memctl_size_parse_kernel("\n", &v), ==, -EINVAL);
    g_assert_cmpint(memctl_size_parse_kernel("12M\n", &v), ==, -EINVAL);
    g_assert_cmpint(memctl_size_parse_kernel("12\n\n", &v), ==, -EINVAL);
    g_assert_cmpint(memctl_size_parse_kernel("99999999999999999999\n", &v), ==, -ERANGE);
    g_assert_cmpuint(v, ==, 7);
}

static void test_format(void)
{
    char buf[MEMCTL_SIZE_FORMAT_MAX];
    g_assert_cmpstr(memctl_size_format(0, buf), ==, "0B");
    g_assert_cmpstr(memctl_size_format(1023, buf), ==, "1023B");
    g_assert_cmpstr(memctl_size_format(1024, buf), ==, "1.0K");
    g_assert_cmpstr(memctl_size_format(1536, buf), ==, "1.5K");
    g_assert_cmpstr(memctl_size_format(512ull << 20, buf), ==, "512.0M");
    g_assert_cmpstr(memctl_size_format((1ull << 30) - 1, buf), ==, "1023.9M");
    g_assert_cmpstr(memctl_size_format(3ull << 29, buf), ==, "1.5G");
    g_assert_cmpstr(memctl_size_format(UINT64_MAX - 1, buf), ==, "15.9E");
    g_assert_cmpstr(memctl_size_format(MEMCTL_SIZE_MAX, buf), ==, "max");
}

static void test_roundtrip(void)
{
    /* Whatever format() prints, parse() reads back to within one tenth of the unit, never above. */
    static const uint64_t samples[] = {1024, 4095, 1u << 20, (5ull << 30) + 12345, 7ull << 40};
    for (size_t i = 0; i < G_N_ELEMENTS(samples); i++) {
        char buf[MEMCTL_SIZE_FORMAT_MAX];
        uint64_t back = 0;
        g_assert_cmpint(memctl_size_parse(memctl_size_format(samples[i], buf), &back), ==, 0);
        g_assert_cmpuint(back, <=, samples[i]);
        g_assert_cmpuint(samples[i] - back, <, samples[i] / 10 + 1);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/size/parse/accepts", test_parse_accepts);
    g_test_add_func("/size/parse/rejects", test_parse_rejects);
    g_test_add_func("/size/parse/kernel", test_parse_kernel);
    g_test_add_func("/size/format", test_format);
    g_test_add_func("/size/roundtrip", test_roundtrip);
    return g_test_run();
}
