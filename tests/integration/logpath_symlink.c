// SPDX-License-Identifier: MIT
// log_path must not follow a symlink planted at PREFIX.PID, nor write into a
// file already there. The parent knows the child's pid only after fork, so
// the child waits on a pipe while the parent plants PREFIX.<child pid> (a
// symlink to the victim, or the victim itself), then commits an error.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// The child cannot use its log file, so its report falls back to stderr;
// the parent itself stays clean.
// clang-format off
// EXPECT: clean
// EXPECT-PID: any
// EXPECT-STDERR: ^==\d+==ERROR: crossfree: invalid-free on address
// OPTIONS: halt_on_error=1:log_path=%t/cf
// ARGS: %t/cf %t/victim
// EXPECT-EXIT: 0
// EXPECT-STDOUT: child: SIGABRT
// EXPECT-STDOUT: victim: untouched
// EXPECT-STDOUT[symlink]: link: still a symlink to the victim
// clang-format on

static const char victim_text[] = "victim file, must not change\n";

int main(int argc, char **argv) {
    if (argc != 4)
        return 2;
    const char *prefix = argv[1], *victim = argv[2];
    int regular = strcmp(argv[3], "regular") == 0;
    FILE *v = fopen(victim, "w");
    if (!v)
        return 3;
    fputs(victim_text, v);
    fclose(v);

    int go[2];
    if (pipe(go) != 0)
        return 3;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(4);
        // A mismatch without C++: memory from aligned new is not at hand in
        // C, so free() an interior pointer instead -- any report will do.
        char *p = malloc(64);
        free(p + 8);
        _exit(0);
    }
    close(go[0]);
    char link[4096];
    snprintf(link, sizeof link, "%s.%d", prefix, (int)pid);
    if (regular) {
        // The pre-existing file is the victim: its content must survive.
        if (rename(victim, link) != 0) {
            perror("rename");
            return 3;
        }
        victim = link;
    } else if (symlink(victim, link) != 0) {
        perror("symlink");
        return 3;
    }
    if (write(go[1], "g", 1) != 1)
        return 3;
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("child: %s\n", WTERMSIG(st) == SIGABRT ? "SIGABRT" : strsignal(WTERMSIG(st)));
    else
        printf("child: exit %d\n", WEXITSTATUS(st));

    char buf[256] = {0};
    FILE *r = fopen(victim, "r");
    size_t n = r ? fread(buf, 1, sizeof buf - 1, r) : 0;
    if (r)
        fclose(r);
    printf("victim: %s\n",
           n == strlen(victim_text) && strcmp(buf, victim_text) == 0 ? "untouched" : "CHANGED");
    if (regular)
        return 0;
    struct stat sb;
    char target[4096] = {0};
    int is_link = lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode) &&
                  readlink(link, target, sizeof target - 1) > 0 && strcmp(target, victim) == 0;
    printf("link: %s\n", is_link ? "still a symlink to the victim" : "REPLACED");
    return 0;
}
