/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: every parser of text the kernel writes about things others control (a cgroup's
 * files, /proc/<pid>/{status,stat,cgroup}, /proc/self/fdinfo, /proc/meminfo, vmstat, zoneinfo,
 * /proc/swaps, zram's mm_stat), and the escaping of process names: one input is fed to all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/host-sample.h"
#include "kernel/sample.h"
#include "kernel/cgpath.h"
#include "kernel/proc.h"
#include "basic/size.h"
#include "basic/str.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    uint64_t u, a, b;
    uint32_t c, d;
    int32_t pid;
    const char *p;
    size_t len;
    if (memctl_cgpath_membership(text, &p, &len) == 0)
        (void)memctl_cgpath_within(p, len, "/memctl.slice/web");
    (void)memctl_proc_status_u64(text, "Tgid", &u);
    (void)memctl_proc_status_u64(text, "Uid", &u);
    (void)memctl_proc_stat(text, &a, &b);
    (void)memctl_proc_fdinfo_pid(text, &pid);
    (void)memctl_sample_key(text, "oom_kill", &u);
    (void)memctl_sample_refaults(text, &u);
    MemctlReclaimInput ri;
    (void)memctl_sample_reclaim_stat(text, &ri);
    (void)memctl_sample_pressure(text, &a, &b, &c);
    (void)memctl_sample_pressure_avg10(text, &c, &d);
    int32_t pids[64];
    (void)memctl_sample_pids(text, pids, 64);
    (void)memctl_size_parse_kernel(text, &u);
    (void)memctl_size_parse(text, &u);
    MemctlHostSample hs = {0};
    (void)memctl_host_sample_meminfo(text, &hs);
    (void)memctl_host_sample_vmstat(text, &hs);
    (void)memctl_host_sample_zoneinfo(text, &hs);
    uint32_t zram[MEMCTL_HOST_ZRAM_MAX];
    uint32_t swaps;
    (void)memctl_host_sample_zram_devices(text, zram, MEMCTL_HOST_ZRAM_MAX, &swaps);
    uint64_t orig;
    (void)memctl_host_sample_zram(text, &orig, &u);
    char esc[MEMCTL_STR_ESCAPED_COMM_MAX];
    (void)memctl_str_escape(text, size, esc, sizeof(esc));
    free(text);
    return 0;
}
