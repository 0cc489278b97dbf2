// SPDX-License-Identifier: MIT
// Threads people can recognise: a block allocated in a thread named
// "producer" is wrongly freed in a thread named "consumer" (one named with
// pthread_setname_np by its creator, one naming itself with
// prctl(PR_SET_NAME)). The report gives each thread's name and OS id and
// where each was created: `Thread T2 (consumer, tid N) created by T1 here:`.
// It prints each thread's OS id, which check_thread_names.py compares with
// the text and JSON reports.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NI __attribute__((noinline))

// clang-format off
// EXPECT: alloc-dealloc-mismatch
// EXPECT-EXIT: SIGABRT
// EXPECT-WORDS: allocated by calloc(), freed by operator delete[]
// EXPECT-LINE: ^==%pid==ERROR: crossfree: alloc-dealloc-mismatch on address 0x[0-9a-f]+ in thread T2 \(consumer, tid [0-9]+\)$
// EXPECT-LINE: ^0x[0-9a-f]+ is a 32-byte region allocated by calloc\(\) in thread T1 \(producer, tid [0-9]+\) here:$
// EXPECT-LINE: ^Thread T2 \(consumer, tid [0-9]+\) created by T1 \(producer, tid [0-9]+\) here:$
// EXPECT-LINE: ^Thread T1 \(producer, tid [0-9]+\) created by T0 here:$
// EXPECT-NO-LINE: ^Thread T0
// EXPECT-FREE-FRAME: #0 consume @tn_free
// EXPECT-ALLOC-FRAME: #0 produce @tn_alloc
// EXPECT-THREAD-FRAME: T2 #0 start_consumer @tn_create_consumer
// EXPECT-THREAD-FRAME: T2 #1 producer_main @tn_producer_calls
// EXPECT-THREAD-FRAME: T1 #0 start_producer @tn_create_producer
// EXPECT-THREAD-FRAME: T1 #1 main @tn_main_calls
// clang-format on

// The operator delete[] of the C++ runtime, called from C.
extern void _ZdaPv(void *);

static void *block;
static int named; // the consumer frees only once its creator has named it

NI static void *produce(void) { return calloc(1, 32); /* @tn_alloc */ }

NI static void consume(void *p) { _ZdaPv(p); /* @tn_free */ }

static void *consumer_main(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&named, __ATOMIC_ACQUIRE))
        sched_yield();
    // check_thread_names.py compares the tids with the report's.
    printf("consumer tid %d\n", (int)syscall(SYS_gettid));
    fflush(stdout);
    consume(block);
    return NULL;
}

NI static pthread_t start_consumer(void) {
    pthread_t t;
    pthread_create(&t, NULL, consumer_main, NULL); /* @tn_create_consumer */
    pthread_setname_np(t, "consumer");
    __atomic_store_n(&named, 1, __ATOMIC_RELEASE);
    return t;
}

static void *producer_main(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "producer", 0, 0, 0);
    printf("producer tid %d\n", (int)syscall(SYS_gettid));
    fflush(stdout);
    block = produce();
    pthread_t c = start_consumer(); /* @tn_producer_calls */
    pthread_join(c, NULL);
    return NULL;
}

NI static pthread_t start_producer(void) {
    pthread_t t;
    pthread_create(&t, NULL, producer_main, NULL); /* @tn_create_producer */
    return t;
}

int main(void) {
    pthread_t t = start_producer(); /* @tn_main_calls */
    pthread_join(t, NULL);
    return 0;
}
