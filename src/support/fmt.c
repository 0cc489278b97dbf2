// SPDX-License-Identifier: MIT
// Bounded formatting for report and warning text. Everything here must be
// safe inside malloc and free: no allocation, no stdio, no locale.
#include "support/fmt.h"

void cf_buf_init(cf_buf *b, char *storage, size_t cap) {
    b->data = storage;
    b->cap = cap;
    b->len = 0;
    b->truncated = false;
    if (cap > 0)
        storage[0] = '\0';
}

void cf_buf_char(cf_buf *b, char c) {
    if (b->len + 1 >= b->cap) {
        b->truncated = true;
        return;
    }
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void cf_buf_strn(cf_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n && s[i] != '\0'; i++)
        cf_buf_char(b, s[i]);
}

void cf_buf_str(cf_buf *b, const char *s) {
    if (s == NULL)
        s = "(null)";
    while (*s != '\0')
        cf_buf_char(b, *s++);
}

void cf_buf_dec(cf_buf *b, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        cf_buf_char(b, tmp[--n]);
}

void cf_buf_sdec(cf_buf *b, int64_t v) {
    if (v < 0) {
        cf_buf_char(b, '-');
        cf_buf_dec(b, (uint64_t)0 - (uint64_t)v);
    } else {
        cf_buf_dec(b, (uint64_t)v);
    }
}

void cf_buf_hex(cf_buf *b, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v != 0);
    cf_buf_str(b, "0x");
    while (n > 0)
        cf_buf_char(b, tmp[--n]);
}

void cf_buf_json_str(cf_buf *b, const char *s) {
    static const char digits[] = "0123456789abcdef";
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            cf_buf_char(b, '\\');
            cf_buf_char(b, (char)c);
        } else if (c == '\n') {
            cf_buf_str(b, "\\n");
        } else if (c == '\t') {
            cf_buf_str(b, "\\t");
        } else if (c < 0x20) {
            cf_buf_str(b, "\\u00");
            cf_buf_char(b, digits[c >> 4]);
            cf_buf_char(b, digits[c & 15]);
        } else {
            cf_buf_char(b, (char)c);
        }
    }
}

size_t cf_strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int cf_strcmp(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

bool cf_streqn(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return false;
        if (a[i] == '\0')
            return true;
    }
    return true;
}

void cf_strlcpy(char *dst, const char *src, size_t cap) {
    size_t i = 0;
    if (cap == 0)
        return;
    for (; i + 1 < cap && src != NULL && src[i] != '\0'; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

bool cf_parse_i64(const char *s, size_t n, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    if (n == 0)
        return false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1)
            return false;
    }
    // A negative number may reach 2^63 (INT64_MIN), a positive one 2^63-1.
    uint64_t limit = (uint64_t)INT64_MAX + (neg ? 1 : 0);
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_C(1) << 62) / 5) // v*10 would pass 2^63
            return false;
        v = v * 10 + d;
        if (v > limit)
            return false;
    }
    // -(v-1)-1 rather than -v: 2^63 itself does not fit in an int64_t.
    *out = !neg ? (int64_t)v : v == 0 ? 0 : -(int64_t)(v - 1) - 1;
    return true;
}
