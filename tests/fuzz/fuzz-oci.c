/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: an OCI runtime's state and config.json as memctl's hook reads them
 * (client/oci-spec.c). One input is the state, a NUL byte, then the config (no NUL: the state only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/oci-spec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t state_len = nul ? (size_t)(nul - text) : size;
    MemctlOciSpec s = {0};
    if (memctl_oci_spec_state(&s, text, state_len) == 0 && nul &&
        memctl_oci_spec_config(&s, nul + 1, size - state_len - 1, "config.json") == 0) {
        static MemctlOciSettings set;
        memset(&set, 0, sizeof(set));
        (void)memctl_oci_spec_settings(&s, &set);
        (void)memctl_oci_spec_config_at(&s, (const char *[]){"linux", "cgroupsPath", NULL});
    }
    memctl_oci_spec_clear(&s);
    return 0;
}
