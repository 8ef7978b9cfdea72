/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the policy-file parser: one input is one document, added to a policy that
 * already holds a valid one (so merging is exercised), then checked. Any crash, leak or sanitizer
 * report is a failure; rejected input is fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-file.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;

    static MemctlPolicy p; /* static: large, and cleared every run */
    MemctlPolicyError e;
    memctl_policy_init(&p);
    if (memctl_policy_add(&p, "base.json",
                          "{\"groups\": {\"web\": {\"limit\": \"1G\", \"prefer\": {\"comm\": [\"a\"]}}}}",
                          &e) != 0)
        abort();
    if (memctl_policy_add(&p, "fuzz.json", text, &e) == 0) {
        (void)memctl_policy_check(&p, &e);
        char buf[1024];
        (void)memctl_policy_error_format(&e, buf, sizeof(buf));
        for (size_t i = 0; i < p.n_groups; i++)
            (void)memctl_policy_group(&p, p.groups[i].name);
    }
    memctl_policy_clear(&p);
    free(text);
    return 0;
}
