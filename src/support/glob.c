// SPDX-License-Identifier: MIT
// Iterative glob matcher with single-star backtracking: linear in practice
// and never recursive, so a hostile pattern cannot exhaust the stack.
#include "support/glob.h"

// Matches one bracket expression at pat[*i] (just past '[') against c;
// advances *i past the closing ']'. A '[' without ']' matches itself.
static bool match_class(const char *pat, size_t len, size_t *i, char c, bool *ok) {
    size_t j = *i;
    bool negate = false;
    if (j < len && (pat[j] == '!' || pat[j] == '^')) {
        negate = true;
        j++;
    }
    bool matched = false;
    bool first = true;
    while (j < len && (pat[j] != ']' || first)) {
        char lo = pat[j];
        char hi = lo;
        if (j + 2 < len && pat[j + 1] == '-' && pat[j + 2] != ']') {
            hi = pat[j + 2];
            j += 2;
        }
        if (c >= lo && c <= hi)
            matched = true;
        j++;
        first = false;
    }
    if (j >= len) {
        *ok = false; // unterminated: treat '[' literally
        return c == '[';
    }
    *ok = true;
    *i = j + 1;
    return matched != negate;
}

bool cf_glob_match(const char *pat, size_t len, const char *text) {
    size_t p = 0;
    const char *t = text;
    size_t star_p = (size_t)-1;
    const char *star_t = NULL;
    while (*t != '\0') {
        if (p < len && pat[p] == '*') {
            star_p = ++p;
            star_t = t;
            continue;
        }
        if (p < len) {
            bool step = false;
            size_t next = p + 1;
            if (pat[p] == '?') {
                step = true;
            } else if (pat[p] == '[') {
                bool ok;
                size_t i = p + 1;
                step = match_class(pat, len, &i, *t, &ok);
                if (ok)
                    next = i;
            } else {
                step = pat[p] == *t;
            }
            if (step) {
                p = next;
                t++;
                continue;
            }
        }
        if (star_t == NULL)
            return false;
        p = star_p;
        t = ++star_t;
    }
    while (p < len && pat[p] == '*')
        p++;
    return p == len;
}

bool cf_glob_match_list(const char *list, const char *text) {
    const char *s = list;
    while (*s != '\0') {
        const char *e = s;
        while (*e != '\0' && *e != ',')
            e++;
        if (e > s && cf_glob_match(s, (size_t)(e - s), text))
            return true;
        s = *e == ',' ? e + 1 : e;
    }
    return false;
}
