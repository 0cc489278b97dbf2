// SPDX-License-Identifier: MIT
// Helpers shared by the crossfree subcommands: allocation that exits on
// failure, a growable string, whole-file reading and flag parsing. Nothing
// here knows about a particular subcommand.
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "crossfree";

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void out_of_memory(void) {
    fputs("crossfree: out of memory\n", stderr);
    exit(CLI_BAD_INPUT);
}

void *cli_xmalloc(size_t n) {
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL)
        out_of_memory();
    return p;
}

void *cli_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n == 0 ? 1 : n);
    if (q == NULL)
        out_of_memory();
    return q;
}

char *cli_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = cli_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

void cli_str_addn(cli_str *s, const char *text, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap;
        while (cap < s->len + n + 1)
            cap *= 2;
        s->data = cli_xrealloc(s->data, cap);
        s->cap = cap;
    }
    memcpy(s->data + s->len, text, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void cli_str_add(cli_str *s, const char *text) { cli_str_addn(s, text, strlen(text)); }

void cli_str_addf(cli_str *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *tmp = cli_xmalloc((size_t)n + 1);
        vsnprintf(tmp, (size_t)n + 1, fmt, again);
        cli_str_addn(s, tmp, (size_t)n);
        free(tmp);
    }
    va_end(again);
}

void cli_str_free(cli_str *s) {
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
}

size_t cli_utf8_seq_len(const unsigned char *s, size_t n) {
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void cli_str_add_utf8(cli_str *out, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        size_t len;
        while (run < n && u[run] != 0 && (len = cli_utf8_seq_len(u + run, n - run)) > 0)
            run += len;
        cli_str_addn(out, s + i, run - i);
        if (run < n) {
            cli_str_add(out, "\xef\xbf\xbd");
            run++;
        }
        i = run;
    }
    if (out->data == NULL)
        cli_str_addn(out, "", 0);
}

bool cli_read_file(const char *path, char **data, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return false;
    cli_str s = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        cli_str_addn(&s, buf, n);
    bool ok = !ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        cli_str_free(&s);
        errno = saved != 0 ? saved : EIO;
        return false;
    }
    if (s.data == NULL)
        cli_str_addn(&s, "", 0);
    *data = s.data;
    *len = s.len;
    return true;
}

// Whether the long flag `arg` ("--name" or "--name=value") names one of
// longopts in full.
static bool whole_long_name(const char *arg, const struct option *longopts) {
    size_t n = strcspn(arg + 2, "=");
    for (const struct option *o = longopts; o->name != NULL; o++) {
        if (strlen(o->name) == n && strncmp(arg + 2, o->name, n) == 0)
            return true;
    }
    return false;
}

int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts) {
    opterr = 0; // the messages below replace getopt's own
    // The argument getopt_long reads now: inside a cluster such as "-ix"
    // that is the cluster, and a long flag always stands alone.
    const char *arg = optind < argc ? argv[optind] : "";
    bool is_long = strncmp(arg, "--", 2) == 0 && arg[2] != '\0';
    int c = getopt_long(argc, argv, optstring, longopts, NULL);
    if (c == -1)
        return -1;
    if (is_long && !whole_long_name(arg, longopts)) {
        cli_error("unknown flag '%s' (%s --help lists them)", arg, cli_prog);
        return '?';
    }
    if (c == ':') {
        if (is_long)
            cli_error("%s needs a value", arg);
        else
            cli_error("-%c needs a value", optopt);
        return '?';
    }
    if (c == '?') {
        // A whole long name refused: it was given a value it takes none of.
        if (is_long)
            cli_error("%.*s takes no value", (int)strcspn(arg, "="), arg);
        else
            cli_error("unknown flag '-%c' (%s --help lists them)", optopt, cli_prog);
        return '?';
    }
    return c;
}
