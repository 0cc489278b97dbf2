// SPDX-License-Identifier: MIT
// The thread registry (threads.c): what a report says about a thread
// number. runtime.h declares what the platform shims call (numbers,
// creation); this is the rest, for the runtime's own files.
#ifndef CF_RUNTIME_THREADS_H
#define CF_RUNTIME_THREADS_H

#include <stdbool.h>
#include <stdint.h>

#include "report/report.h"

// Threads the registry describes; a thread numbered beyond it is printed
// as its number alone.
#define CF_THREADS_MAX 65536u

// Maps the registry (address space only, committed on touch). Start-up,
// once; false when it cannot be mapped (reports then print numbers only).
bool cf_rt_threads_init(void);

// cf_thread_fn for reports: the OS id, the name (read now, or kept from
// when the thread ended) and the creation of thread `tid`.
bool cf_rt_thread_describe(uint32_t tid, cf_thread_desc *out);

// In a fork child: the forking thread has a new OS id.
void cf_rt_threads_fork_child(void);

#endif
