// SPDX-License-Identifier: MIT
// The launcher tests/bench/bench.py starts each measured process through: Linux
// counts the resident set before exec in a child's peak RSS, so a child forked
// from Python would start at Python's ~18 MiB. Writes the peak RSS and CPU time
// of PROG (and the descendants it waited for) to RUSAGE_FILE. Allocates nothing.
//
// Usage: bench_spawn RUSAGE_FILE PROG [ARGS...]; exits with PROG's status.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s RUSAGE_FILE PROG [ARGS...]\n", argv[0]);
        return 125;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_spawn: fork");
        return 125;
    }
    if (pid == 0) {
        execvp(argv[2], &argv[2]);
        perror("bench_spawn: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("bench_spawn: wait4");
            return 125;
        }
    }
    FILE *f = fopen(argv[1], "w");
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (f == NULL || fprintf(f, "maxrss_kib %ld\ncpu_s %.6f\n", ru.ru_maxrss, cpu) < 0 ||
        fclose(f) != 0) {
        perror("bench_spawn: writing the rusage file");
        return 125;
    }
    if (WIFSIGNALED(status)) {
        // Die the same way, so the runner sees the signal, not an exit code.
        // No core file of our own: the child already made one if it could.
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}
