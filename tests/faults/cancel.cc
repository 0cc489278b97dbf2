// SPDX-License-Identifier: MIT
// A thread cancelled inside a wrapped call: with a cancellation request
// pending (deferred cancellation, the default), the thread makes a
// mismatched free. Writing the report reaches a cancellation point
// (write, open), so without care the thread is unwound out of crossfree
// in the middle of its report. Then the main thread makes a mismatch of
// its own: its report must come, whole (no deadlock on a lock the dead
// thread held), and the program ends normally (halt_on_error=0).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>

#define NI __attribute__((noinline))

static void *volatile block;
static std::atomic<int> stage;

NI static void cancelled_thread_mismatch() {
    block = new char[16];
    std::free(block);
    asm volatile("" ::: "memory"); // not a tail call: this frame stays on the stack
}

NI static void main_thread_mismatch() {
    block = new long[4];
    std::free(block);
    asm volatile("" ::: "memory"); // not a tail call: this frame stays on the stack
}

static void *worker(void *) {
    stage = 1;
    while (stage != 2) // no cancellation point while the request arrives
        ;
    cancelled_thread_mismatch();
    // Reached only if no cancellation point was met in the report.
    pthread_testcancel();
    return nullptr;
}

int main() {
    pthread_t t;
    pthread_create(&t, nullptr, worker, nullptr);
    while (stage != 1)
        ;
    pthread_cancel(t);
    stage = 2;
    void *result;
    pthread_join(t, &result);
    std::printf("cancel: worker %s\n", result == PTHREAD_CANCELED ? "cancelled" : "returned");
    main_thread_mismatch();
    std::printf("cancel: done\n");
    return 0;
}
