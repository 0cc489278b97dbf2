// SPDX-License-Identifier: MIT
// A launcher shaped like `flutter run`: before it starts the app it runs a
// shell script, a compiler and a Python script, then the app through a
// helper process (launcher -> helper -> app). Exits with the app's status.
// Under `crossfree run --only APP` only the app may be checked.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

// Runs argv as a child; returns its exit status as a shell would.
static int run(char *const argv[]) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 126;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: %s SCRIPT CC SOURCE OBJECT PYTHON PYSCRIPT HELPER APP\n", argv[0]);
        return 2;
    }
    char *script = argv[1], *cc = argv[2], *source = argv[3], *object = argv[4];
    char *python = argv[5], *pyscript = argv[6], *helper = argv[7], *app = argv[8];

    char *sh_argv[] = {"/bin/sh", script, helper, NULL};
    int sh = run(sh_argv);
    char *cc_argv[] = {cc, "-c", source, "-o", object, NULL};
    int compiled = run(cc_argv);
    char *py_argv[] = {python, pyscript, NULL};
    int py = run(py_argv);
    char *app_argv[] = {helper, "spawn", app, "mismatch", NULL};
    int app_status = run(app_argv);

    printf("launcher: sh=%d cc=%d python=%d app=%d\n", sh, compiled, py, app_status);
    return app_status;
}
