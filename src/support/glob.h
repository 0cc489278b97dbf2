// SPDX-License-Identifier: MIT
// Shell-style glob matching ('*', '?', '[abc]', '[a-z]', '[!x]') for
// options and suppressions. Never allocates; bounded by the input lengths.
#ifndef CF_SUPPORT_GLOB_H
#define CF_SUPPORT_GLOB_H

#include <stdbool.h>
#include <stddef.h>

// Whether all of `text` matches the pattern [pat, pat+pat_len). '*'
// matches any run of characters, '/' included.
bool cf_glob_match(const char *pat, size_t pat_len, const char *text);

// Whether `text` matches any pattern of a comma-separated list.
bool cf_glob_match_list(const char *list, const char *text);

#endif
