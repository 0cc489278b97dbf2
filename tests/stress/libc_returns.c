// SPDX-License-Identifier: MIT
// Every libc function that hands the caller memory to free(), and a few that
// allocate and free internally (stdio, regex, glob, resolver, locale, iconv):
// glibc makes these blocks through its own malloc, so each must be tracked as
// the malloc family and freeing them with free() must be clean.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <execinfo.h>
#include <glob.h>
#include <iconv.h>
#include <locale.h>
#include <netdb.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

// clang-format off
// EXPECT: clean
// EXPECT-EXIT: 0
// EXPECT-STDOUT: strdup strndup wcsdup: ok
// EXPECT-STDOUT: getline: 3 lines, getdelim: 4 fields
// EXPECT-STDOUT: asprintf vasprintf: ok
// EXPECT-STDOUT: open_memstream: 12 bytes
// EXPECT-STDOUT: scandir: 3 entries
// EXPECT-STDOUT: realpath canonicalize_file_name getcwd get_current_dir_name: ok
// EXPECT-STDOUT: regcomp/regexec/regfree: ok
// EXPECT-STDOUT: glob: 3 matches
// EXPECT-STDOUT: getaddrinfo localhost: ok
// EXPECT-STDOUT: fopen/fclose x1000: ok
// EXPECT-STDOUT: setlocale strcoll strxfrm newlocale: ok
// EXPECT-STDOUT: iconv: ok
// EXPECT-STDOUT: getpwuid: ok
// EXPECT-STDOUT: backtrace_symbols: ok
// EXPECT-STDOUT: setenv/unsetenv: ok
// EXPECT-STDOUT: wide printf: ok
// EXPECT-STDOUT: done
// clang-format on

static int vfmt(char **out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}

int main(void) {
    char tmpl[] = "/tmp/crossfree-libc-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir || chdir(dir) != 0)
        return 3;

    for (int i = 0; i < 1000; i++) {
        char *a = strdup("hello, world");
        char *b = strndup("hello, world", 5);
        wchar_t *w = wcsdup(L"wide");
        if (strcmp(b, "hello") != 0 || wcslen(w) != 4)
            return 4;
        free(a);
        free(b);
        free(w);
    }
    printf("strdup strndup wcsdup: ok\n");

    FILE *f = fopen("lines.txt", "w");
    fputs("one\ntwo\nthree\n", f);
    fclose(f);
    f = fopen("lines.txt", "r");
    char *line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, f) > 0)
        lines++;
    free(line);
    rewind(f);
    char *field = NULL;
    cap = 0;
    int fields = 0;
    while (getdelim(&field, &cap, 'e', f) > 0)
        fields++;
    free(field);
    fclose(f);
    printf("getline: %d lines, getdelim: %d fields\n", lines, fields);

    char *s1 = NULL, *s2 = NULL;
    if (asprintf(&s1, "%d-%s", 42, "x") < 0 || vfmt(&s2, "%s/%05d", "y", 7) < 0)
        return 5;
    printf("asprintf vasprintf: %s\n",
           strcmp(s1, "42-x") == 0 && strcmp(s2, "y/00007") == 0 ? "ok" : "WRONG");
    free(s1);
    free(s2);

    char *buf = NULL;
    size_t len = 0;
    FILE *ms = open_memstream(&buf, &len);
    fprintf(ms, "memstream %d", 42);
    fclose(ms);
    printf("open_memstream: %zu bytes\n", len);
    free(buf);

    mkdir("d", 0700);
    fclose(fopen("d/a.c", "w"));
    fclose(fopen("d/b.c", "w"));
    fclose(fopen("d/c.c", "w"));
    struct dirent **names = NULL;
    int n = scandir("d", &names, NULL, alphasort);
    int entries = 0;
    for (int i = 0; i < n; i++) {
        entries += names[i]->d_name[0] != '.';
        free(names[i]);
    }
    free(names);
    printf("scandir: %d entries\n", entries);

    char *rp = realpath("d/../d/a.c", NULL);
    char *cf = canonicalize_file_name("d/b.c");
    char *cwd = getcwd(NULL, 0);
    char *cdn = get_current_dir_name();
    int paths_ok =
        rp && cf && cwd && cdn && strcmp(cwd, cdn) == 0 && strncmp(rp, cwd, strlen(cwd)) == 0;
    printf("realpath canonicalize_file_name getcwd get_current_dir_name: %s\n",
           paths_ok ? "ok" : "WRONG");
    free(rp);
    free(cf);
    free(cwd);
    free(cdn);

    int re_ok = 1;
    for (int i = 0; i < 200; i++) {
        regex_t re;
        regmatch_t m[3];
        if (regcomp(&re, "([a-z]+)-([0-9]+)", REG_EXTENDED) != 0)
            return 6;
        re_ok &= regexec(&re, "xx abc-123 yy", 3, m, 0) == 0 && m[2].rm_so == 7;
        regfree(&re);
    }
    printf("regcomp/regexec/regfree: %s\n", re_ok ? "ok" : "WRONG");

    glob_t g;
    int grc = glob("d/*.c", 0, NULL, &g);
    printf("glob: %zu matches\n", grc == 0 ? g.gl_pathc : 0);
    globfree(&g);

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int arc = getaddrinfo("localhost", "80", &hints, &res);
    printf("getaddrinfo localhost: %s\n", arc == 0 && res ? "ok" : gai_strerror(arc));
    if (res)
        freeaddrinfo(res);

    int fo = 1;
    for (int i = 0; i < 1000; i++) {
        FILE *t = fopen("lines.txt", "r");
        char tmp[8];
        fo &= t && fgets(tmp, sizeof tmp, t) != NULL;
        if (t)
            fclose(t);
    }
    printf("fopen/fclose x1000: %s\n", fo ? "ok" : "WRONG");

    int loc_ok = setlocale(LC_ALL, "C.UTF-8") != NULL;
    loc_ok &= strcoll("apple", "banana") < 0;
    char xf[64];
    loc_ok &= strxfrm(xf, "zeta", sizeof xf) < sizeof xf;
    locale_t l = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    loc_ok &= l != (locale_t)0;
    if (l)
        freelocale(l);
    setlocale(LC_ALL, "C");
    printf("setlocale strcoll strxfrm newlocale: %s\n", loc_ok ? "ok" : "WRONG");

    iconv_t cd = iconv_open("UTF-16LE", "UTF-8");
    int ic_ok = cd != (iconv_t)-1;
    if (ic_ok) {
        char in[] = "h\xc3\xa9llo", out[32];
        char *ip = in, *op = out;
        size_t il = strlen(in), ol = sizeof out;
        ic_ok = iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && sizeof out - ol == 10;
        iconv_close(cd);
    }
    printf("iconv: %s\n", ic_ok ? "ok" : "WRONG");

    struct passwd *pw = getpwuid(getuid());
    printf("getpwuid: %s\n", pw && pw->pw_name ? "ok" : "no entry");

    void *frames[8];
    int nf = backtrace(frames, 8);
    char **syms = backtrace_symbols(frames, nf);
    printf("backtrace_symbols: %s\n", syms && nf > 0 ? "ok" : "WRONG");
    free(syms);

    int env_ok = 1;
    for (int i = 0; i < 500; i++) {
        char name[32];
        snprintf(name, sizeof name, "CROSSFREE_T_%d", i);
        env_ok &= setenv(name, "value", 1) == 0;
    }
    for (int i = 0; i < 500; i++) {
        char name[32];
        snprintf(name, sizeof name, "CROSSFREE_T_%d", i);
        env_ok &= unsetenv(name) == 0;
    }
    printf("setenv/unsetenv: %s\n", env_ok ? "ok" : "WRONG");

    // A huge field width makes vfprintf allocate a work buffer internally.
    char *wide = NULL;
    int wl = asprintf(&wide, "%100000d|%ls", 7, L"wide");
    printf("wide printf: %s\n", wl == 100005 ? "ok" : "WRONG");
    free(wide);

    unlink("d/a.c");
    unlink("d/b.c");
    unlink("d/c.c");
    rmdir("d");
    unlink("lines.txt");
    if (chdir("/") == 0)
        rmdir(dir);
    printf("done\n");
    return 0;
}
