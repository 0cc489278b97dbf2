// SPDX-License-Identifier: MIT
// A test-and-test-and-set spinlock for short critical sections (a table
// probe, a ring push). Never held across a call into the real allocator or
// the unwinder; a zeroed lock is unlocked, so fork children can reset it.
#ifndef CF_SUPPORT_LOCK_H
#define CF_SUPPORT_LOCK_H

#include <stdatomic.h>

#include "platform/platform.h"

#if defined(__x86_64__) || defined(__i386__)
#define CF_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CF_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CF_CPU_RELAX() ((void)0)
#endif

typedef struct cf_lock {
    atomic_int held;
} cf_lock;

static inline void cf_lock_acquire(cf_lock *l) {
    for (unsigned spins = 0;; spins++) {
        if (atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
            atomic_exchange_explicit(&l->held, 1, memory_order_acquire) == 0)
            return;
        // On a 2-core machine the holder may be preempted: stop burning the
        // core after a short spin and let it run.
        if (spins > 64)
            cf_os_yield();
        else
            CF_CPU_RELAX();
    }
}

static inline void cf_lock_release(cf_lock *l) {
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
