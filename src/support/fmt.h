// SPDX-License-Identifier: MIT
// A bounded text buffer and number formatting for reports and warnings.
// Used on paths that must not allocate: never calls malloc or stdio, never
// writes past the buffer (output is truncated, and `truncated` says so).
#ifndef CF_SUPPORT_FMT_H
#define CF_SUPPORT_FMT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Marks a function that takes a printf format, so the compiler checks each
// call's arguments against it. MinGW's GCC reads "printf" as the Microsoft
// runtime's dialect (no %zu); the C99 one it calls gnu_printf.
#if defined(__MINGW32__) && !defined(__clang__)
#define CF_PRINTF_FORMAT(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#else
#define CF_PRINTF_FORMAT(fmt, first) __attribute__((format(printf, fmt, first)))
#endif

typedef struct cf_buf {
    char *data;
    size_t cap; // bytes available, including the terminating NUL
    size_t len;
    bool truncated;
} cf_buf;

void cf_buf_init(cf_buf *b, char *storage, size_t cap);
void cf_buf_str(cf_buf *b, const char *s);
void cf_buf_strn(cf_buf *b, const char *s, size_t n);
void cf_buf_char(cf_buf *b, char c);
void cf_buf_dec(cf_buf *b, uint64_t v);
void cf_buf_sdec(cf_buf *b, int64_t v);
void cf_buf_hex(cf_buf *b, uint64_t v); // "0x" followed by lowercase hex

// Appends `fmt` with its conversions, printf-style, for a checked subset:
//   %s %c %p %%  and  %d %i %u %x  with no length, l, ll or z;
//   flags '-' (left-justify) and '0' (zero-pad numbers), a width (digits
//   or '*'), and for %s a precision (digits or '*': at most that many
//   bytes are read, so the string need not end in a NUL).
// %s of NULL prints "(null)"; %p prints "0x" and lowercase hex, 0x0 for
// NULL (as cf_buf_hex). Anything else (%f, %X, %hd, '#', '+', a precision
// on a number, a '%' at the end) prints "%!" and the directive as written,
// then the rest of `fmt` literally: no argument is read past the first
// directive it does not know. Never allocates, never writes past the
// buffer (see `truncated`).
void cf_buf_printf(cf_buf *b, const char *fmt, ...) CF_PRINTF_FORMAT(2, 3);
void cf_buf_vprintf(cf_buf *b, const char *fmt, va_list ap) CF_PRINTF_FORMAT(2, 0);
// Appends the JSON string body of s (no quotes): escapes ", \ and controls,
// copies valid UTF-8 as it is, and writes each byte that is not part of a
// valid UTF-8 sequence as \u00XX, so any input gives valid JSON.
void cf_buf_json_str(cf_buf *b, const char *s);
// The same for at most n bytes of s (stopping early at a NUL).
void cf_buf_json_strn(cf_buf *b, const char *s, size_t n);

// Small string helpers that do not depend on libc state.
size_t cf_strlen(const char *s);
int cf_strcmp(const char *a, const char *b);
bool cf_streqn(const char *a, const char *b, size_t n);
// Copies at most cap-1 bytes and always terminates (cap > 0).
void cf_strlcpy(char *dst, const char *src, size_t cap);
// The file name in a path: what follows its last slash or backslash (module paths
// from Windows, and from Wine, use backslashes).
const char *cf_path_base(const char *path);
// Parses a decimal integer occupying all of [s, s+n); false on junk/overflow.
bool cf_parse_i64(const char *s, size_t n, int64_t *out);

#endif
