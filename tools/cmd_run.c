// SPDX-License-Identifier: MIT
// `crossfree run`: finds libcrossfree.so beside the command (installed or
// in the build tree), puts it first in LD_PRELOAD, adds the options to
// CROSSFREE_OPTIONS, runs the command and waits for it. Every process under
// it notes its errors in a private directory (CROSSFREE_RUN_DIR), so the
// exit status is `exitcode` whenever any of them reported an error, however
// it ended (_exit, Go's exit_group, a signal); otherwise it is the
// command's. Every failure before the start is one line and its own exit
// status.
// On macOS the library is libcrossfree.dylib and the variable
// DYLD_INSERT_LIBRARIES; the command is exec'd itself, never through a
// shell, because dyld strips DYLD_* from protected programs such as /bin/sh.
#include "cli.h"

#include "platform/platform.h"
#include "report/report.h"
#include "runtime/options.h"
#include "support/fmt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if CF_OS_LINUX
#include <elf.h>
#endif

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
#define BUILD_TREE_LIBDIR "../src"
#define PRELOAD_VAR "DYLD_INSERT_LIBRARIES"
#define PRELOAD_SEPARATORS ":"
#define PRELOAD_SEPARATORS_TEXT "':'"
#define RUN_DESCRIPTION                                                                            \
    "Runs COMMAND with libcrossfree.dylib inserted (first in DYLD_INSERT_LIBRARIES,\n"             \
    "which its children inherit) and returns its exit status, or exitcode (23)\n"                  \
    "when any process under it reported an error. dyld removes the\n"                              \
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
    "children inherit) and returns its exit status, or exitcode (23) when any\n"                   \
    "process under it reported an error, however that process ended.\n"
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
    "Exit status: exitcode (23 unless -o exitcode=N) when a checked process reported\n"
    "an error; else the command's; or 122 (--log-dir cannot be created), 123 (library\n"
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
    // The parser's checks, then those the library makes at start-up
    // (report_format's words, host_modules, semantics=windows' settings).
    if (cf_options_parse(&scratch, kv, &warnings) == 0) {
        cf_options_configure(&scratch, &warnings);
        if (warnings.len == 0)
            return true;
    }
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
// Running the command and reading what its processes noted
// ---------------------------------------------------------------------------

// The path execvp would run for `name`, into out (PATH_MAX); false if none.
static bool find_program(const char *name, char *out) {
    if (strchr(name, '/') != NULL) {
        snprintf(out, PATH_MAX, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char *copy = cli_xstrdup(path != NULL ? path : "/usr/bin:/bin");
    bool found = false;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d != NULL && !found;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, PATH_MAX, "%s/%s", d, name);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

// Whether the program is a statically linked ELF executable: no program
// interpreter, so the dynamic loader never runs and never reads
// LD_PRELOAD. False for anything that is not a 64-bit ELF file.
static bool statically_linked(const char *program) {
#if CF_OS_LINUX
    int fd = open(program, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && eh.e_phentsize == sizeof(Elf64_Phdr) &&
        eh.e_phnum > 0 && eh.e_phnum < 4096) {
        is_static = true;
        for (unsigned k = 0; k < eh.e_phnum && is_static; k++) {
            Elf64_Phdr ph;
            off_t at = (off_t)(eh.e_phoff + (uint64_t)k * sizeof ph);
            if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph || ph.p_type == PT_INTERP)
                is_static = false;
        }
    }
    close(fd);
    return is_static;
#else
    (void)program;
    return false;
#endif
}

// What the processes under the command noted in the run directory.
typedef struct run_notes {
    unsigned processes, checked;
    unsigned long errors[CF_ERR_KIND_COUNT];
    unsigned long total;
    cli_str unchecked; // executables that ran unchecked, ", "-separated
    unsigned unchecked_listed;
} run_notes;

// One process's note: "checked\tEXE" or "unchecked\tEXE\tONLY", then an
// "error\tKIND" line per error it reported.
static void read_note(FILE *f, run_notes *n) {
    char line[PATH_MAX + 2048];
    bool first = true;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *field = strchr(line, '\t');
        if (field == NULL)
            continue;
        *field++ = '\0';
        if (first && strcmp(line, "checked") == 0) {
            n->processes++;
            n->checked++;
        } else if (first && strcmp(line, "unchecked") == 0) {
            n->processes++;
            field[strcspn(field, "\t")] = '\0';
            const char *listed = n->unchecked.data != NULL ? n->unchecked.data : "";
            if (n->unchecked_listed < 5 && strstr(listed, field) == NULL) {
                cli_str_addf(&n->unchecked, "%s%s", n->unchecked_listed > 0 ? ", " : "", field);
                n->unchecked_listed++;
            }
        } else if (strcmp(line, "error") == 0) {
            for (unsigned k = 0; k < CF_ERR_KIND_COUNT; k++)
                if (strcmp(field, cf_error_kind_name((cf_error_kind)k)) == 0)
                    n->errors[k]++;
            n->total++;
        }
        first = false;
    }
}

// Reads every process's note in `dir`, deleting each, then the directory.
static void read_notes(const char *dir, run_notes *n) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        cli_str path = {0};
        cli_str_addf(&path, "%s/%s", dir, e->d_name);
        FILE *f = strncmp(e->d_name, "p.", 2) == 0 ? fopen(path.data, "r") : NULL;
        if (f != NULL) {
            read_note(f, n);
            fclose(f);
        }
        unlink(path.data);
        cli_str_free(&path);
    }
    closedir(d);
    rmdir(dir);
}

static volatile sig_atomic_t child_pid;

// SIGTERM and SIGHUP sent to `crossfree run` are meant for the command.
static void forward_signal(int sig) {
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

// The warnings of a run that checked nothing, and the summary of one that
// found errors; returns the exit status (-1: the command's own).
static int judge_run(const char *command, const run_notes *n, bool have_dir, bool said_static) {
    // The options as the processes read them.
    static cf_options final;
    cf_options_set_defaults(&final);
    char ignored[4096];
    cf_buf w;
    cf_buf_init(&w, ignored, sizeof ignored);
    cf_options_parse(&final, getenv("CROSSFREE_OPTIONS"), &w);
    if (have_dir && n->processes == 0 && !said_static)
        cli_error("warning: no process under %s loaded %s (a statically linked or set-user-ID "
                  "program ignores " PRELOAD_VAR "): nothing was checked",
                  command, LIBRARY_NAME);
    else if (have_dir && n->checked == 0 && final.only[0] != '\0')
        cli_error("warning: only=%s matched no process, so nothing was checked; these ran "
                  "unchecked: %s%s",
                  final.only, n->unchecked.data != NULL ? n->unchecked.data : "",
                  n->processes > n->unchecked_listed ? ", ..." : "");
    if (n->total == 0)
        return -1;
    cli_str kinds = {0};
    for (unsigned k = 0; k < CF_ERR_KIND_COUNT; k++)
        cli_str_addf(&kinds, "%s%s: %lu", k > 0 ? ", " : "", cf_error_kind_name((cf_error_kind)k),
                     n->errors[k]);
    cli_error("%lu error(s) reported by the checked processes (%s); exit status %d", n->total,
              kinds.data, (int) final.exitcode);
    cli_str_free(&kinds);
    return (int) final.exitcode;
}

// Starts argv (resolved like execvp) with the run directory in its
// environment, waits for it, and decides the exit status.
static int run_and_wait(char **argv) {
    char program[PATH_MAX];
    bool is_static = find_program(argv[0], program) && statically_linked(program);
    if (is_static)
        cli_error("note: %s is statically linked: " PRELOAD_VAR " has no effect on it, so it "
                  "runs unchecked",
                  argv[0]);
    const char *tmp = getenv("TMPDIR");
    cli_str dir = {0};
    cli_str_addf(&dir, "%s/crossfree-run.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    bool have_dir = mkdtemp(dir.data) != NULL;
    if (have_dir)
        setenv("CROSSFREE_RUN_DIR", dir.data, 1);
    else
        // The run still checks; only processes that end without their exit
        // handlers (_exit, a signal) lose their say in the exit status.
        cli_error("note: cannot create %s: %s; errors of processes that end through _exit "
                  "will not change the exit status",
                  dir.data, strerror(errno));
    // A failed exec is told through this pipe; a successful one closes it.
    int pipefd[2];
    if (pipe(pipefd) != 0 || fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0) {
        cli_error("cannot create a pipe: %s", strerror(errno));
        return CLI_RUN_CANNOT_EXEC;
    }
    pid_t pid = fork();
    if (pid < 0) {
        cli_error("cannot fork: %s", strerror(errno));
        return CLI_RUN_CANNOT_EXEC;
    }
    if (pid == 0) {
        close(pipefd[0]);
        // The command itself, never `sh -c`: on macOS a shell would lose
        // DYLD_INSERT_LIBRARIES (and execvp only falls back to /bin/sh for a
        // file that is neither a binary nor a #! script).
        execvp(argv[0], argv);
        int err = errno;
        ssize_t wrote = write(pipefd[1], &err, sizeof err);
        (void)wrote;
        _exit(CLI_RUN_NOT_FOUND);
    }
    close(pipefd[1]);
    child_pid = pid;
    // The terminal's ^C and ^\ reach the command too (one process group):
    // this process stays to give its verdict.
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTERM, forward_signal);
    signal(SIGHUP, forward_signal);
    int err = 0;
    ssize_t got;
    do
        got = read(pipefd[0], &err, sizeof err);
    while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    run_notes notes = {0};
    if (have_dir)
        read_notes(dir.data, &notes);
    cli_str_free(&dir);
    if (got == (ssize_t)sizeof err) {
        cli_str_free(&notes.unchecked);
        if (err == ENOENT) {
            if (strchr(argv[0], '/') != NULL)
                cli_error("%s: no such file", argv[0]);
            else
                cli_error("%s: command not found", argv[0]);
            return CLI_RUN_NOT_FOUND;
        }
        cli_error("%s: cannot execute: %s", argv[0], strerror(err));
        return CLI_RUN_CANNOT_EXEC;
    }
    int verdict = judge_run(argv[0], &notes, have_dir, is_static);
    cli_str_free(&notes.unchecked);
    if (verdict >= 0)
        return verdict;
    if (WIFSIGNALED(status)) {
        // End the same way, so that a shell or a CI job sees the signal;
        // the command dumped core already, if it was to.
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        raise(sig);
        return 128 + sig;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : CLI_RUN_CANNOT_EXEC;
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

    return run_and_wait(argv + i);
}
