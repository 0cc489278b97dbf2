// SPDX-License-Identifier: MIT
// A signal handler that allocates and frees while the interrupted thread
// is itself inside malloc or free, over and over for SECONDS (default 5):
// with crossfree preloaded the interrupted call may be inside crossfree's
// own bookkeeping (a quarantine shard or a table shard held) rather than
// inside the real allocator. glibc's malloc is not async-signal-safe
// either, so the handler uses its own arena (tcache; small sizes), which
// is what such programs rely on in practice. Prints one line of counts;
// the test's watchdog fails it if it does not finish (a deadlock).
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong handled;
static atomic_int stop;
static pthread_t victim;

static void on_signal(int sig) {
    (void)sig;
    // Three sizes, so blocks go to different shards and tcache bins.
    for (int i = 0; i < 3; i++) {
        void *p = malloc((size_t)(16 << i));
        if (p != NULL)
            memset(p, 0xab, 16);
        free(p);
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
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);

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
