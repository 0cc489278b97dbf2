// SPDX-License-Identifier: MIT
// A fork while another thread holds the dynamic loader's lock (it is in
// dlopen, dlclose or dl_iterate_phdr, here the last, parked in its
// callback): in the child that lock stays held for good. The child then
// allocates from functions never called before, so crossfree's unwinder
// meets return addresses it has no rule for yet. Natively the child runs;
// under crossfree it must too (it hung in dl_iterate_phdr before, found by
// the soak). The parent waits 20 s at most for it.
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int holding, forked;

static int park(struct dl_phdr_info *info, size_t size, void *data) {
    (void)info, (void)size, (void)data;
    pthread_mutex_lock(&m);
    holding = 1;
    pthread_cond_broadcast(&c);
    while (!forked)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return 1;
}

static void *holder(void *arg) {
    (void)arg;
    dl_iterate_phdr(park, NULL);
    return NULL;
}

// Never called before the fork: new return addresses for the unwinder.
__attribute__((noinline)) static void *child_alloc(size_t n) {
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) static int child_work(void) {
    char *s = child_alloc(64);
    strcpy(s, "child");
    free(s);
    char *d = strdup("in the child");
    int ok = d != NULL;
    free(d);
    __asm__ volatile("" ::: "memory");
    return ok ? 0 : 1;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    pthread_mutex_lock(&m);
    while (!holding)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    pid_t pid = fork(); // the loader's lock is held by `holder`
    if (pid == 0)
        _exit(child_work());
    pthread_mutex_lock(&m);
    forked = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    int status = 0;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            printf("fork_loader_lock: child exited with %d\n",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
        }
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    printf("fork_loader_lock: the child hung (killed after 20 s)\n");
    return 1;
}
