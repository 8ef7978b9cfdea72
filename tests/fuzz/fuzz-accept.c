/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the Accept header any HTTP client sends to /metrics (daemon/metrics/expo.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics/expo.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (text)
        (void)memctl_expo_negotiate(text);
    free(text);
    return 0;
}
