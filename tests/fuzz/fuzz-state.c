/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the state file (policy/state.c), entry by entry. Rejected input is fine. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/state.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static MemctlState st; /* static: large */
    MemctlPolicyError e;
    memctl_state_init(&st);
    (void)memctl_state_parse("state.json", (const char *)data, size, &st, &e);
    for (size_t i = 0; i < st.groups.n_groups; i++)
        (void)memctl_policy_group(&st.groups, st.groups.groups[i].name);
    memctl_state_clear(&st);
    return 0;
}
