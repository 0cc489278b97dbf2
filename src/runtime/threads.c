// SPDX-License-Identifier: MIT
// Threads as reports name them: crossfree's thread numbers (T0, T1, ...),
// and for each number the OS thread id, the name, and who created the
// thread and where. The registry is one lazily committed mapping indexed by
// number; nothing here calls malloc. Thread creation is not the hot path,
// but its bookkeeping still never allocates: the creating call's stack
// goes to the depot, the start routine and its argument to the new
// thread's slot.
#include "runtime/threads.h"

#include "runtime/internal.h"
#include "stack/capture.h"
#include "support/fmt.h"

// The slot of thread number N is slots[N].
typedef struct thread_slot {
    _Atomic int os_tid;  // 0 until the thread has run crossfree code
    _Atomic bool exited; // its name is in `name`
    bool created;        // created through the wrapped creation call
    uint32_t created_by;
    uint32_t create_stack;
    void *(*start)(void *); // the program's start routine, until the thread runs
    void *arg;
    char name[16]; // the name when the thread ended
} thread_slot;

static atomic_uint next_tid;
static thread_slot *slots; // CF_THREADS_MAX of them, NULL before start-up

static thread_slot *slot_of(uint32_t tid) {
    return slots != NULL && tid < CF_THREADS_MAX ? &slots[tid] : NULL;
}

bool cf_rt_threads_init(void) {
    slots = cf_os_map(CF_THREADS_MAX * sizeof(thread_slot), true);
    // A thread numbered before the registry existed (the one starting
    // crossfree up) is still the one running this.
    uint32_t tid1 = cf_tls_data.tid1;
    thread_slot *s = tid1 != 0 ? slot_of(tid1 - 1) : NULL;
    if (s != NULL)
        atomic_store(&s->os_tid, cf_os_gettid());
    return slots != NULL;
}

uint32_t cf_rt_tid_assign(void) {
    cf_tls *t = &cf_tls_data;
    if (t->tid1 != 0)
        return t->tid1 - 1;
    uint32_t n = atomic_fetch_add_explicit(&next_tid, 1, memory_order_relaxed);
    t->tid1 = n + 1;
    // Once per thread: the system call is no cost to the hot path.
    thread_slot *s = slot_of(n);
    if (s != NULL)
        atomic_store_explicit(&s->os_tid, cf_os_gettid(), memory_order_release);
    return n;
}

// ---------------------------------------------------------------------------
// Creation

void *cf_rt_thread_creating(void *(*start)(void *), void *arg) {
    if (slots == NULL || !cf_rt_set.checking)
        return NULL;
    uint32_t creator = cf_rt_tid();
    uint32_t n = atomic_fetch_add_explicit(&next_tid, 1, memory_order_relaxed);
    thread_slot *s = slot_of(n);
    if (s == NULL)
        return NULL; // numbered on its first allocation instead
    s->created = true;
    s->created_by = creator;
    s->start = start;
    s->arg = arg;
    if (cf_rt_set.context_size > 0) {
        CF_RT_GUARDED; // the unwinder may allocate on a cold path
        s->create_stack = cf_capture_id(cf_rt_set.context_size);
    }
    return s;
}

void cf_rt_thread_create_failed(void *slot) {
    thread_slot *s = slot;
    s->created = false;
}

// Runs when the thread's start routine returns or the thread is unwound
// (pthread_exit, cancellation: crossfree is built with -fexceptions): its
// name is read while the thread still exists.
static void thread_ended(thread_slot *const *sp) {
    thread_slot *s = *sp;
    cf_os_thread_name(atomic_load(&s->os_tid), s->name, sizeof s->name);
    atomic_store_explicit(&s->exited, true, memory_order_release);
}

// On Linux the start routine has a section of its own, whose bounds the
// linker provides: stacks end there (cf_capture_set_base).
#if CF_OS_LINUX
#define CF_THREAD_START_SECTION __attribute__((section("cf_thread_start_text")))
#else
#define CF_THREAD_START_SECTION
#endif

CF_THREAD_START_SECTION void *cf_rt_thread_start(void *slot) {
    thread_slot *s = slot;
    void *(*start)(void *) = s->start;
    void *arg = s->arg;
    cf_tls_data.tid1 = (uint32_t)(s - slots) + 1;
    atomic_store_explicit(&s->os_tid, cf_os_gettid(), memory_order_release);
    __attribute__((cleanup(thread_ended))) thread_slot *const ending = s;
    (void)ending;
    return start(arg);
}

void cf_rt_threads_fork_child(void) {
    // The forking thread is the child's only thread, under a new id.
    uint32_t tid1 = cf_tls_data.tid1;
    thread_slot *s = tid1 != 0 ? slot_of(tid1 - 1) : NULL;
    if (s != NULL)
        atomic_store(&s->os_tid, cf_os_gettid());
}

// ---------------------------------------------------------------------------
// Reports

bool cf_rt_thread_describe(uint32_t tid, cf_thread_desc *out) {
    *out = (cf_thread_desc){0};
    // Elsewhere the main thread's id is not the process's, and names cannot
    // be read without allocating: reports give thread numbers only.
    if (!CF_OS_LINUX)
        return false;
    thread_slot *s = slot_of(tid);
    if (s == NULL)
        return false;
    int os_tid = atomic_load_explicit(&s->os_tid, memory_order_acquire);
    if (os_tid == 0)
        return false;
    out->os_tid = os_tid;
    out->main = os_tid == cf_os_getpid();
    if (atomic_load_explicit(&s->exited, memory_order_acquire))
        cf_strlcpy(out->name, s->name, sizeof out->name);
    else
        cf_os_thread_name(os_tid, out->name, sizeof out->name);
    if (s->created) {
        out->created = true;
        out->created_by = s->created_by;
        out->create_stack = s->create_stack;
    }
    return true;
}
