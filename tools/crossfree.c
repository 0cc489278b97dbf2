// SPDX-License-Identifier: MIT
// The crossfree command: `run` starts a program with libcrossfree
// preloaded, `report` turns JSON logs into text, JUnit, SARIF or GitHub
// annotations, `symbolize` names the frames of logs written with
// symbolize=0. This file only dispatches; each subcommand has its own file.
#include "cli.h"
#include "logs.h"

#include <string.h>

static const char usage[] =
    "usage: crossfree run [-o KEY=VALUE]... [--only PATTERN] [--log-dir DIR] -- COMMAND [ARG]...\n"
    "       crossfree report [--format text|junit|sarif|github] [--source-root DIR]\n"
    "                        [--output FILE] LOG...\n"
    "       crossfree symbolize [-i] [--debug-dir DIR]... LOG...\n"
    "       crossfree --help | --version\n"
    "\n"
    "crossfree finds memory freed by the wrong allocator (new[] freed by free,\n"
    "malloc freed by delete, ...) in programs you do not recompile.\n"
    "\n"
    "  run        run COMMAND with libcrossfree preloaded; its exit status is ours\n"
    "  report     summarize JSON logs (report_format=json) for people and CI systems\n"
    "  symbolize  add function and file:line to frames logged as module+offset\n"
    "\n"
    "`crossfree SUBCOMMAND --help` describes each one; crossfree(1) and\n"
    "crossfree-options(7) have the details.\n";

int main(int argc, char **argv) {
    cli_json_init();
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_RUN_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "version") == 0) {
        printf("crossfree %s\n", CF_VERSION);
        return 0;
    }
    if (strcmp(sub, "run") == 0)
        return cli_cmd_run(argc - 1, argv + 1);
    if (strcmp(sub, "report") == 0)
        return cli_cmd_report(argc - 1, argv + 1);
    if (strcmp(sub, "symbolize") == 0)
        return cli_cmd_symbolize(argc - 1, argv + 1);
    fprintf(stderr, "crossfree: unknown subcommand '%s' (crossfree --help lists them)\n", sub);
    return CLI_RUN_USAGE;
}
