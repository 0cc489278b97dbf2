// SPDX-License-Identifier: MIT
// A signal handler that allocates and frees while the thread it interrupts
// is inside crossfree's own bookkeeping. `signal_malloc SECONDS quiet`
// only loops (the test stops it under gdb inside a quarantine shard's lock
// and delivers SIGUSR1 there: deterministic); without `quiet` a second
// thread also sends SIGUSR1 as fast as it can. That second form can
// deadlock natively too (a handler interrupting glibc's malloc while it
// holds its arena lock), so no test relies on it. Prints one line of
// counts.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong handled;
static atomic_int stop;
static pthread_t victim;

// Through a volatile: the compiler may not drop the malloc/free pair.
static void *volatile handler_block;

static void on_signal(int sig) {
    (void)sig;
    // Three sizes, so blocks go to different shards and tcache bins.
    for (int i = 0; i < 3; i++) {
        handler_block = malloc((size_t)(16 << i));
        if (handler_block != NULL)
            memset(handler_block, 0xab, 16);
        free(handler_block);
    }
    atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
}

static void *sender(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        pthread_kill(victim, SIGUSR1);
    }
    return NULL;
}

static void *idle(void *arg) {
    (void)arg;
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    victim = pthread_self();
    bool quiet = argc > 2 && strcmp(argv[2], "quiet") == 0;
    pthread_t t;
    // Created even when quiet: the test's gdb stops at pthread_create, by
    // which time the handler is installed.
    pthread_create(&t, NULL, quiet ? idle : sender, NULL);

    enum { LIVE = 256 };
    void *live[LIVE] = {0};
    unsigned long ops = 0;
    double end = now() + seconds;
    for (unsigned i = 0;; i++) {
        if ((i & 1023) == 0 && now() > end)
            break;
        unsigned k = (i * 2654435761u) % LIVE;
        free(live[k]);
        live[k] = (i & 7) == 0 ? calloc(1, 8 + i % 512) : malloc(8 + i % 512);
        ops++;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    for (unsigned k = 0; k < LIVE; k++)
        free(live[k]);
    printf("signal_malloc: %lu operations, %lu handlers ran\n", ops,
           (unsigned long)atomic_load(&handled));
    return 0;
}
