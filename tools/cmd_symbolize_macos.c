// SPDX-License-Identifier: MIT
// `crossfree symbolize` on macOS: not available. The Linux subcommand
// (cmd_symbolize.c) reads ELF files and their DWARF with elfutils; a Mach-O
// frame's file and line are in a .dSYM bundle, which Apple's atos reads.
// So this one says how to call atos on the module+offset every macOS frame
// prints (docs/macos.md) and fails, rather than copy logs through unchanged.
#include "cli.h"

#include <string.h>

static const char symbolize_usage[] =
    "usage: crossfree symbolize [-i] [--debug-dir DIR]... LOG...\n"
    "\n"
    "Not available on macOS: it reads ELF files and DWARF, and macOS keeps\n"
    "debug info in .dSYM bundles, which Apple's atos reads. Name a frame\n"
    "printed as (MODULE+0xOFFSET) with it:\n"
    "\n"
    "  atos -o MODULE -arch ARCH 0xOFFSET...\n"
    "  atos -o BINARY -arch ARCH -l LOADADDR ADDR...   (run-time addresses)\n"
    "\n"
    "Exit status: 2 (0 for --help).\n";

int cli_cmd_symbolize(int argc, char **argv) {
    cli_prog = "crossfree symbolize";
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(symbolize_usage, stdout);
            return 0;
        }
    }
    cli_error("not supported on macOS; name each frame (MODULE+0xOFFSET) with "
              "`atos -o MODULE -arch ARCH 0xOFFSET...`, or run-time addresses with "
              "`atos -o BINARY -arch ARCH -l LOADADDR ADDR...` (docs/macos.md)");
    return CLI_BAD_INPUT;
}
