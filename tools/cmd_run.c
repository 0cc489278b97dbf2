// SPDX-License-Identifier: MIT
// `crossfree run`: finds libcrossfree.so beside the command (installed or
// in the build tree), puts it first in LD_PRELOAD, adds the options to
// CROSSFREE_OPTIONS and execs the command, so the command's exit status is
// ours. Every failure before the exec is one line and its own exit status.
// On macOS the library is libcrossfree.dylib and the variable
// DYLD_INSERT_LIBRARIES; the command is exec'd itself, never through a
// shell, because dyld strips DYLD_* from protected programs such as /bin/sh.
#include "cli.h"

#include "platform/platform.h"
#include "runtime/options.h"
#include "support/fmt.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if CF_OS_MACOS
#include <mach-o/dyld.h>
#endif

#ifndef CF_BINDIR_TO_LIBDIR
#define CF_BINDIR_TO_LIBDIR "../lib"
#endif

// What differs between the platforms: the library's name and where the
// build tree has it (from build/tools), the variable that inserts it, and
// what separates that variable's entries (dyld splits on ':' only).
#if CF_OS_MACOS
#define LIBRARY_NAME "libcrossfree.dylib"
#define BUILD_TREE_LIBDIR "../src/platform/macos"
#define PRELOAD_VAR "DYLD_INSERT_LIBRARIES"
#define PRELOAD_SEPARATORS ":"
#define PRELOAD_SEPARATORS_TEXT "':'"
#define RUN_DESCRIPTION                                                                            \
    "Runs COMMAND with libcrossfree.dylib inserted (first in DYLD_INSERT_LIBRARIES,\n"             \
    "which its children inherit) and returns its exit status. dyld removes the\n"                  \
    "variable from protected programs (in /bin, /usr/bin, /System: the shells, env)\n"             \
    "and whatever they start: give COMMAND as a program's own executable, not a\n"                 \
    "shell script or a #!/usr/bin/env script.\n"
#else
#define LIBRARY_NAME "libcrossfree.so"
#define BUILD_TREE_LIBDIR "../src"
#define PRELOAD_VAR "LD_PRELOAD"
#define PRELOAD_SEPARATORS ": \t"
#define PRELOAD_SEPARATORS_TEXT "':' or spaces"
#define RUN_DESCRIPTION                                                                            \
    "Runs COMMAND with libcrossfree.so preloaded (first in LD_PRELOAD, which its\n"                \
    "children inherit) and returns its exit status.\n"
#endif

static const char run_usage[] =
    "usage: crossfree run [-o KEY=VALUE]... [--only PATTERN] [--log-dir DIR] [--] COMMAND "
    "[ARG]...\n"
    "       crossfree run --print-library\n"
    "\n" RUN_DESCRIPTION "\n"
    "  -o KEY=VALUE      add an option to CROSSFREE_OPTIONS (after any already set,\n"
    "                    so it wins); see crossfree-options(7)\n"
    "  --only PATTERN    check only processes whose executable or argv[0] matches\n"
    "                    (comma-separated globs): same as -o only=PATTERN\n"
    "  --log-dir DIR     create DIR and write reports to DIR/crossfree.PID\n"
    "  --print-library   print the library this command preloads, and exit\n"
    "\n"
    "Exit status: the command's, or 122 (--log-dir cannot be created), 123 (library\n"
    "not found), 124 (bad -o), 125 (usage), 126 (cannot execute), 127 (not found).\n";

// ---------------------------------------------------------------------------
// Options: names from options.inc, values through the library's own parser
// ---------------------------------------------------------------------------

static const char *const option_names[] = {
#define CF_OPTION_BOOL(name, def, doc) #name,
#define CF_OPTION_INT(name, def, lo, hi, doc) #name,
#define CF_OPTION_STR(name, def, doc) #name,
#include "runtime/options.inc"
#undef CF_OPTION_BOOL
#undef CF_OPTION_INT
#undef CF_OPTION_STR
};

#define N_OPTIONS (sizeof option_names / sizeof option_names[0])

static bool known_option(const char *key, size_t len) {
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (strlen(option_names[i]) == len && strncmp(option_names[i], key, len) == 0)
            return true;
    }
    return false;
}

// Checks one KEY=VALUE the way the library will read it. Prints the
// problem and returns false when the library would warn about it.
static bool check_option(const char *flag, const char *kv) {
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv) {
        cli_error("%s '%s' is not KEY=VALUE", flag, kv);
        return false;
    }
    size_t key_len = (size_t)(eq - kv);
    if (!known_option(kv, key_len)) {
        cli_str valid = {0};
        for (size_t i = 0; i < N_OPTIONS; i++)
            cli_str_addf(&valid, "%s%s", i == 0 ? "" : ", ", option_names[i]);
        cli_error("%s '%s': unknown option '%.*s'; valid options: %s", flag, kv, (int)key_len, kv,
                  valid.data);
        cli_str_free(&valid);
        return false;
    }
    // CROSSFREE_OPTIONS separates pairs with ':' and whitespace, so a value
    // holding one would be cut in two.
    if (eq[strcspn(eq, ": \t\n\r")] != '\0') {
        cli_error("%s '%s': a value cannot contain ':' or whitespace", flag, kv);
        return false;
    }
    static cf_options scratch;
    cf_options_set_defaults(&scratch);
    char text[1024];
    cf_buf warnings;
    cf_buf_init(&warnings, text, sizeof text);
    if (cf_options_parse(&scratch, kv, &warnings) == 0)
        return true;
    // The library's warning, without its "==PID==crossfree: warning: "
    // and its "keeping the default" (here nothing is kept: the command
    // does not start).
    const char *w = text;
    static const char prefix[] = "crossfree: warning: ";
    if (strstr(w, prefix) != NULL)
        w = strstr(w, prefix) + sizeof prefix - 1;
    size_t n = strcspn(w, "\n");
    static const char suffix[] = "; keeping the default";
    if (n >= sizeof suffix - 1 &&
        strncmp(w + n - (sizeof suffix - 1), suffix, sizeof suffix - 1) == 0)
        n -= sizeof suffix - 1;
    cli_error("%s '%s': %.*s", flag, kv, (int)n, w);
    return false;
}

// ---------------------------------------------------------------------------
// The library
// ---------------------------------------------------------------------------

// Fills exe (PATH_MAX bytes) with this command's executable, symbolic
// links resolved; on failure says in `looked` why it is unknown.
static bool command_path(char *exe, cli_str *looked) {
#if CF_OS_MACOS
    char given[PATH_MAX];
    uint32_t size = sizeof given;
    if (_NSGetExecutablePath(given, &size) != 0 || realpath(given, exe) == NULL) {
        cli_str_add(looked, "_NSGetExecutablePath (failed, so the command's directory is unknown)");
        return false;
    }
#else
    ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);
    if (n <= 0) {
        cli_str_add(looked, "/proc/self/exe (unreadable, so the command's directory is unknown)");
        return false;
    }
    exe[n] = '\0';
#endif
    return true;
}

// Looks for the library where `meson install` puts it relative to bindir,
// then where the build tree has it (build/tools → build/src, on macOS
// build/src/platform/macos). Fills `path` with its absolute real path; on
// failure `looked` lists the candidates.
static bool find_library(char *path, size_t cap, cli_str *looked) {
    char exe[PATH_MAX];
    if (!command_path(exe, looked))
        return false;
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    const char *rel[] = {CF_BINDIR_TO_LIBDIR, BUILD_TREE_LIBDIR};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char candidate[PATH_MAX * 2];
        snprintf(candidate, sizeof candidate, "%s/%s/%s", exe, rel[i], LIBRARY_NAME);
        cli_str_addf(looked, "%s%s", i == 0 ? "" : ", ", candidate);
        char real[PATH_MAX];
        if (access(candidate, R_OK) == 0 && realpath(candidate, real) != NULL) {
            snprintf(path, cap, "%s", real);
            return true;
        }
    }
    return false;
}

// Whether LD_PRELOAD (entries separated by ':' or spaces; on macOS
// DYLD_INSERT_LIBRARIES, by ':') already names lib.
static bool preload_has(const char *preload, const char *lib) {
    char *copy = cli_xstrdup(preload);
    bool found = false;
    char *save = NULL;
    for (char *e = strtok_r(copy, PRELOAD_SEPARATORS, &save); e != NULL && !found;
         e = strtok_r(NULL, PRELOAD_SEPARATORS, &save)) {
        char real[PATH_MAX];
        found = strcmp(e, lib) == 0 || (realpath(e, real) != NULL && strcmp(real, lib) == 0);
    }
    free(copy);
    return found;
}

// Appends ":ENTRY" for each entry of PRELOAD_VAR but another copy of
// crossfree (another build or version): two would both wrap malloc.
static void add_other_preloads(const char *preload, cli_str *out) {
    if (preload == NULL)
        return;
    char *copy = cli_xstrdup(preload);
    char *save = NULL;
    for (char *e = strtok_r(copy, PRELOAD_SEPARATORS, &save); e != NULL;
         e = strtok_r(NULL, PRELOAD_SEPARATORS, &save)) {
        const char *base = cf_path_base(e);
        if (strncmp(base, LIBRARY_NAME, strlen(LIBRARY_NAME)) == 0)
            cli_error("note: %s left out of " PRELOAD_VAR " (another crossfree)", e);
        else
            cli_str_addf(out, ":%s", e);
    }
    free(copy);
}

// ---------------------------------------------------------------------------
// Log directory
// ---------------------------------------------------------------------------

// mkdir -p: creates each missing component. Returns 0 or an errno.
static int make_dirs(const char *dir) {
    char *p = cli_xstrdup(dir);
    int err = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            err = errno;
            break;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    if (err == 0) {
        struct stat st;
        if (stat(dir, &st) != 0)
            err = errno;
        else if (!S_ISDIR(st.st_mode))
            err = ENOTDIR;
    }
    return err;
}

// ---------------------------------------------------------------------------
// The subcommand
// ---------------------------------------------------------------------------

// Long flags without a short form get values past any character.
enum { OPT_ONLY = 256, OPT_LOG_DIR, OPT_PRINT_LIBRARY };

static const struct option run_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"option", required_argument, NULL, 'o'},
    {"only", required_argument, NULL, OPT_ONLY},
    {"log-dir", required_argument, NULL, OPT_LOG_DIR},
    {"print-library", no_argument, NULL, OPT_PRINT_LIBRARY},
    {NULL, 0, NULL, 0},
};

int cli_cmd_run(int argc, char **argv) {
    cli_prog = "crossfree run";
    cli_str added = {0}; // ":k=v:k=v" in command-line order
    const char *log_dir = NULL;
    bool print_library = false;
    // '+': the first operand is the command, and everything after it is
    // its own, flags included.
    int c;
    while ((c = cli_getopt(argc, argv, "+:ho:", run_options)) != -1) {
        const char *value = optarg;
        switch (c) {
        case 'h':
            fputs(run_usage, stdout);
            cli_str_free(&added);
            return 0;
        case OPT_PRINT_LIBRARY:
            print_library = true;
            break;
        case 'o':
            // -o=KEY=VALUE, as --option=KEY=VALUE, is -o KEY=VALUE.
            if (value == argv[optind - 1] + 2 && value[0] == '=')
                value++;
            if (!check_option("-o", value)) {
                cli_str_free(&added);
                return CLI_RUN_BAD_OPTION;
            }
            cli_str_addf(&added, ":%s", value);
            break;
        case OPT_ONLY: {
            cli_str pair = {0};
            cli_str_addf(&pair, "only=%s", value);
            bool ok = check_option("--only", pair.data);
            if (ok)
                cli_str_addf(&added, ":%s", pair.data);
            cli_str_free(&pair);
            if (!ok) {
                cli_str_free(&added);
                return CLI_RUN_BAD_OPTION;
            }
            break;
        }
        case OPT_LOG_DIR:
            log_dir = value;
            break;
        default: // the problem is printed
            cli_str_free(&added);
            return CLI_RUN_USAGE;
        }
    }
    int i = optind;
    // getopt takes a lone "-" for an operand; before the command it is a
    // mistyped flag, as it always was here (after "--" it is the command).
    if (i < argc && strcmp(argv[i], "-") == 0 && strcmp(argv[i - 1], "--") != 0) {
        cli_error("unknown flag '-' (crossfree run --help lists them)");
        cli_str_free(&added);
        return CLI_RUN_USAGE;
    }

    char lib[PATH_MAX];
    cli_str looked = {0};
    bool have_lib = find_library(lib, sizeof lib, &looked);
    if (print_library) {
        if (have_lib)
            printf("%s\n", lib);
        else
            cli_error("cannot find %s (looked for %s)", LIBRARY_NAME, looked.data);
        cli_str_free(&looked);
        cli_str_free(&added);
        return have_lib ? 0 : CLI_RUN_NO_LIBRARY;
    }
    if (i >= argc) {
        cli_error("no command given after -- (usage: crossfree run [OPTIONS] -- COMMAND [ARG]...)");
        cli_str_free(&looked);
        cli_str_free(&added);
        return CLI_RUN_USAGE;
    }
    if (!have_lib) {
        cli_error("cannot find %s (looked for %s)", LIBRARY_NAME, looked.data);
        cli_str_free(&looked);
        cli_str_free(&added);
        return CLI_RUN_NO_LIBRARY;
    }
    if (strpbrk(lib, PRELOAD_SEPARATORS) != NULL) {
        cli_error("%s: " PRELOAD_VAR " cannot hold a path with " PRELOAD_SEPARATORS_TEXT, lib);
        cli_str_free(&looked);
        cli_str_free(&added);
        return CLI_RUN_NO_LIBRARY;
    }
    cli_str_free(&looked);

    if (log_dir != NULL) {
        int err = make_dirs(log_dir);
        char real[PATH_MAX];
        if (err == 0 && realpath(log_dir, real) == NULL)
            err = errno;
        if (err != 0) {
            cli_error("cannot create the log directory %s: %s", log_dir, strerror(err));
            cli_str_free(&added);
            return CLI_RUN_LOG_DIR;
        }
        // Absolute, so a child that changes directory still logs here.
        cli_str pair = {0};
        cli_str_addf(&pair, "log_path=%s/crossfree", real);
        if (!check_option("--log-dir", pair.data)) {
            cli_str_free(&pair);
            cli_str_free(&added);
            return CLI_RUN_LOG_DIR;
        }
        cli_str_addf(&added, ":%s", pair.data);
        cli_str_free(&pair);
    }

    const char *old_preload = getenv(PRELOAD_VAR);
    if (old_preload == NULL || !preload_has(old_preload, lib)) {
        cli_str preload = {0};
        cli_str_add(&preload, lib);
        add_other_preloads(old_preload, &preload);
        setenv(PRELOAD_VAR, preload.data, 1);
        cli_str_free(&preload);
    }
    if (added.len > 0) {
        const char *old = getenv("CROSSFREE_OPTIONS");
        cli_str options = {0};
        if (old != NULL && old[0] != '\0')
            cli_str_addf(&options, "%s%s", old, added.data);
        else
            cli_str_add(&options, added.data + 1);
        setenv("CROSSFREE_OPTIONS", options.data, 1);
        cli_str_free(&options);
    }
    cli_str_free(&added);

    // The command itself, never `sh -c`: on macOS a shell would lose
    // DYLD_INSERT_LIBRARIES (and execvp only falls back to /bin/sh for a file
    // that is neither a binary nor a #! script).
    execvp(argv[i], argv + i);
    int err = errno;
    if (err == ENOENT) {
        if (strchr(argv[i], '/') != NULL)
            cli_error("%s: no such file", argv[i]);
        else
            cli_error("%s: command not found", argv[i]);
        return CLI_RUN_NOT_FOUND;
    }
    cli_error("%s: cannot execute: %s", argv[i], strerror(err));
    return CLI_RUN_CANNOT_EXEC;
}
