/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The process file descriptor system calls memctld uses, for C libraries whose headers predate them
 * (pidfd_open and pidfd_send_signal: Linux 5.3 and 5.1; process_mrelease: 5.15). */

#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif
