// SPDX-License-Identifier: MIT
// The soak: real multi-threaded, forking load for SECONDS under crossfree.
//   soak SECONDS PLUGIN EXPECTED   the load (EXPECTED: `soak child`'s line)
//   soak child                     a deterministic allocation workload;
//                                  prints its checksum (run natively by the
//                                  test for EXPECTED, exec'd by the load)
// The load, all at once: worker threads allocating (malloc, calloc,
// realloc, posix_memalign, strdup) and handing blocks to each other to
// free (cross-thread frees); a thread creating short-lived threads that
// allocate and exit; a thread forking children that allocate and _exit
// or exec `soak child` (its output must equal EXPECTED); a thread that
// dlopens and dlcloses PLUGIN; a thread sending signals to the workers
// while they allocate. A watchdog aborts if no work is done for 60 s.
// RSS is sampled once a second: the line at the end gives the figures,
// and the exit status is 1 if a child's output differed or RSS grew by
// more than a quarter (plus 16 MB) between the warm point (a fifth of the
// run) and the end.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define RING 4096

static atomic_ulong ops, processes, threads_made, dlopens, signals_sent, signals_seen, mismatches;
static atomic_int stop;
static const char *plugin_path, *expected, *self_path;

// ---------------------------------------------------------------------------
// Cross-thread hand-off: a ring of blocks any worker may take and free.

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ring[RING];
static unsigned ring_pos;

static void *swap_into_ring(void *p, unsigned slot) {
    pthread_mutex_lock(&ring_lock);
    unsigned i = (ring_pos + slot) % RING;
    void *old = ring[i];
    ring[i] = p;
    ring_pos++;
    pthread_mutex_unlock(&ring_lock);
    return old;
}

static uint32_t next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *one_block(uint32_t *seed) {
    uint32_t r = next(seed);
    size_t n = 1 + r % 2048;
    void *p = NULL;
    switch (r >> 28) {
    case 0:
        p = calloc(1, n);
        break;
    case 1:
        if (posix_memalign(&p, 64, n) != 0)
            p = NULL;
        break;
    case 2:
        p = strdup("a string the soak copies");
        break;
    case 3:
        p = realloc(malloc(16), n);
        break;
    default:
        p = malloc(n);
    }
    if (p != NULL)
        memset(p, (int)(r & 0xff), n < 16 ? n : 16);
    return p;
}

static void *worker(void *arg) {
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    void *mine[64] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++) {
            uint32_t r = next(&seed);
            unsigned k = r % 64;
            free(mine[k]);
            mine[k] = one_block(&seed);
            if ((r & 7) == 0) // hand one over: another thread frees it
                free(swap_into_ring(one_block(&seed), r >> 8));
        }
        atomic_fetch_add_explicit(&ops, 256, memory_order_relaxed);
    }
    for (int k = 0; k < 64; k++)
        free(mine[k]);
    return NULL;
}

// ---------------------------------------------------------------------------
// Thread churn, fork and exec, dlopen churn, signals.

static void *short_lived(void *arg) {
    uint32_t seed = (uint32_t)(uintptr_t)arg | 1;
    void *p[16];
    for (int i = 0; i < 16; i++)
        p[i] = one_block(&seed);
    for (int i = 0; i < 16; i++)
        free(p[i]);
    return strdup("thread result"); // freed by the joining thread
}

static void *thread_churn(void *arg) {
    (void)arg;
    for (uintptr_t n = 1; !atomic_load(&stop); n++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, short_lived, (void *)(n * 4 + (uintptr_t)i));
        for (int i = 0; i < 4; i++) {
            void *r;
            pthread_join(t[i], &r);
            free(r);
        }
        atomic_fetch_add(&threads_made, 4);
    }
    return NULL;
}

// Runs `soak child` and compares its output with the native one.
static void exec_child(void) {
    int fds[2];
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self_path, self_path, "child", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char out[256];
    size_t have = 0;
    ssize_t r;
    while (have < sizeof out - 1 && (r = read(fds[0], out + have, sizeof out - 1 - have)) > 0)
        have += (size_t)r;
    out[have] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strcmp(out, expected) != 0) {
        fprintf(stderr, "soak: child output '%s' (status %d), native '%s'\n", out, status,
                expected);
        atomic_fetch_add(&mismatches, 1);
    }
}

static void *forker(void *arg) {
    (void)arg;
    for (unsigned n = 0; !atomic_load(&stop); n++) {
        if (n % 2 == 0) {
            exec_child();
        } else {
            pid_t pid = fork();
            if (pid == 0) {
                // The child inherits the table mid-load: allocate, free, leave.
                uint32_t seed = n | 1;
                for (int i = 0; i < 1000; i++)
                    free(one_block(&seed));
                _exit(0);
            }
            int status = 0;
            waitpid(pid, &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "soak: forked child ended with status %d\n", status);
                atomic_fetch_add(&mismatches, 1);
            }
        }
        atomic_fetch_add(&processes, 1);
        usleep(2000);
    }
    return NULL;
}

static void *dl_churn(void *arg) {
    (void)arg;
    for (unsigned n = 0; !atomic_load(&stop); n++) {
        void *h = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            fprintf(stderr, "soak: dlopen %s: %s\n", plugin_path, dlerror());
            atomic_fetch_add(&mismatches, 1);
            return NULL;
        }
        char *(*work)(unsigned);
        void *sym = dlsym(h, "soak_plugin_work");
        memcpy(&work, &sym, sizeof work);
        char *s = work(n);
        dlclose(h);
        free(s); // a block of a module that is gone
        atomic_fetch_add(&dlopens, 1);
    }
    return NULL;
}

static pthread_t workers[WORKERS];

static void on_signal(int sig) {
    (void)sig;
    atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
}

static void *signaller(void *arg) {
    (void)arg;
    for (unsigned n = 0; !atomic_load(&stop); n++) {
        pthread_kill(workers[n % WORKERS], SIGUSR1);
        atomic_fetch_add(&signals_sent, 1);
        usleep(100);
    }
    return NULL;
}

// ---------------------------------------------------------------------------
// The child workload, RSS, the watchdog.

static int child(void) {
    // Deterministic: the same sizes and contents natively and under crossfree.
    uint32_t seed = 12345, sum = 0;
    void *live[128] = {0};
    for (int i = 0; i < 20000; i++) {
        unsigned k = next(&seed) % 128;
        free(live[k]);
        size_t n = 1 + next(&seed) % 300;
        unsigned char *p = malloc(n);
        for (size_t j = 0; j < n; j++)
            p[j] = (unsigned char)(j + (size_t)i);
        sum = sum * 31 + p[n - 1] + (uint32_t)n;
        live[k] = p;
    }
    for (int k = 0; k < 128; k++)
        free(live[k]);
    printf("soak child: checksum %08x\n", sum);
    return 0;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "child") == 0)
        return child();
    if (argc != 4) {
        fprintf(stderr, "usage: soak SECONDS PLUGIN EXPECTED | soak child\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    plugin_path = argv[2];
    expected = argv[3];
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    self_path = self;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);

    pthread_t others[4];
    for (uintptr_t i = 0; i < WORKERS; i++)
        pthread_create(&workers[i], NULL, worker, (void *)(i + 1));
    pthread_create(&others[0], NULL, thread_churn, NULL);
    pthread_create(&others[1], NULL, forker, NULL);
    pthread_create(&others[2], NULL, dl_churn, NULL);
    pthread_create(&others[3], NULL, signaller, NULL);

    double start = now(), warm_at = start + seconds / 5;
    long warm_rss = 0, last_rss = 0;
    unsigned long last_ops = 0;
    double last_progress = start;
    while (now() - start < seconds) {
        sleep(1);
        last_rss = rss_kb();
        if (warm_rss == 0 && now() >= warm_at)
            warm_rss = last_rss;
        unsigned long o = atomic_load(&ops);
        if (o != last_ops) {
            last_ops = o;
            last_progress = now();
        } else if (now() - last_progress > 60) {
            fprintf(stderr, "soak: watchdog: no progress for 60 s (a hang)\n");
            abort();
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(workers[i], NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(others[i], NULL);
    for (unsigned i = 0; i < RING; i++)
        free(ring[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    bool rss_flat = warm_rss == 0 || last_rss <= warm_rss + warm_rss / 4 + 16 * 1024;
    printf("soak: %.0f s, %lu operations, %lu processes, %lu threads, %lu dlopen/dlclose, "
           "%lu signals (%lu handled), peak RSS %ld MB, RSS warm %ld MB end %ld MB%s, "
           "child mismatches %lu\n",
           now() - start, (unsigned long)atomic_load(&ops), (unsigned long)atomic_load(&processes),
           (unsigned long)atomic_load(&threads_made) + WORKERS + 4,
           (unsigned long)atomic_load(&dlopens), (unsigned long)atomic_load(&signals_sent),
           (unsigned long)atomic_load(&signals_seen), ru.ru_maxrss / 1024, warm_rss / 1024,
           last_rss / 1024, rss_flat ? "" : " (GREW)", (unsigned long)atomic_load(&mismatches));
    return atomic_load(&mismatches) == 0 && rss_flat ? 0 : 1;
}
