// SPDX-License-Identifier: MIT
// Fuzzes `crossfree report`: the input is one log file (JSON Lines, text
// reports, or both mixed, as crossfree writes them), read as the command
// reads it and written in every output format (text, GitHub annotations,
// JUnit XML, SARIF), with and without a source root.
#include "fuzz.h"

#include <stdio.h>

#include "cli.h"
#include "logs.h"
#include "report_out.h"

static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    cli_json_init();
    cli_prog = "crossfree report";
    sink = fopen("/dev/null", "w");
    if (sink == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // cli_logs_parse writes over the line ends and needs data[size].
    char *text = fuzz_cstring(data, size);
    cli_logs logs = {0};
    cli_logs_parse(&logs, "fuzz.log", text, size);
    static void (*const writers[])(const cli_logs *, const cli_report_opts *) = {
        cli_write_text, cli_write_github, cli_write_junit, cli_write_sarif};
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        cli_report_opts o = {.out = sink};
        writers[i](&logs, &o);
        cli_report_opts rooted = {.out = sink, .source_root = "/src", .source_root_real = "/src"};
        writers[i](&logs, &rooted);
    }
    cli_logs_free(&logs);
    free(text);
    return 0;
}
