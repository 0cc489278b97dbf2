// SPDX-License-Identifier: MIT
// Frees one block twice, then leaves through _exit (or, with "signal",
// SIGKILLs itself): no exit handler of crossfree's runs, so only the
// channel to `crossfree run` can carry the error to the run's exit status.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char *volatile p = malloc(16);
    free(p);
    free(p); // the double free crossfree reports (halt_on_error=0 carries on)
    if (argc > 1 && strcmp(argv[1], "signal") == 0)
        raise(SIGKILL);
    _exit(0);
}
