// SPDX-License-Identifier: MIT
// Fuzzes `crossfree symbolize`: the input is a log (text reports and JSON
// records as crossfree writes them with symbolize=0), written as a file
// and symbolized by the command's own entry point, frames naming real
// modules (this program) and missing or damaged ones alike.
#include "fuzz.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "logs.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    cli_json_init();
    snprintf(path, sizeof path, "/tmp/crossfree-fuzz-log-%d", (int)getpid());
    // The symbolized log goes to the standard output: drop it.
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    char arg0[] = "symbolize";
    char *argv[] = {arg0, path, NULL};
    optind = 0; // getopt starts over for each call (glibc)
    (void)cli_cmd_symbolize(2, argv);
    fflush(stdout);
    unlink(path);
    return 0;
}
