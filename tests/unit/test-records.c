/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test library's reading of a kill log (tests/lib/daemontest.c): a log read while memctld
 * appends to it can end in a line not yet finished, which is no record. (CI once read a kill record
 * cut short after `"la`, and a test failed on a field the record did have.)
 */
#include <glib.h>

#include "tests/lib/daemontest.h"

static void test_whole_lines_only(void)
{
    const char *log = "{\"type\":\"kill\",\"pid\":1,\"latency\":{}}\n{\"type\":\"kill\",\"pid\":2,\"la";
    g_autofree char *one = daemontest_find_record(log, "\"pid\":1,", "\"type\":\"kill\"");
    g_assert_cmpstr(one, ==, "{\"type\":\"kill\",\"pid\":1,\"latency\":{}}");
    g_assert_null(daemontest_find_record(log, "\"pid\":2,", NULL)); /* unfinished */
    g_assert_cmpuint(daemontest_count_lines(log, "\"type\":\"kill\""), ==, 1);
    g_autofree char *done = g_strconcat(log, "tency\":{}}\n", NULL);
    g_autofree char *two = daemontest_find_record(done, "\"pid\":2,", NULL);
    g_assert_cmpstr(two, ==, "{\"type\":\"kill\",\"pid\":2,\"latency\":{}}");
    g_assert_cmpuint(daemontest_count_lines(done, "\"type\":\"kill\""), ==, 2);
    g_assert_null(daemontest_find_record("", "x", NULL));
    g_assert_null(daemontest_find_record("\n\n", "x", NULL));
    g_assert_cmpuint(daemontest_count_lines("", "x"), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/records/whole-lines-only", test_whole_lines_only);
    return g_test_run();
}
