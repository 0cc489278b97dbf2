// SPDX-License-Identifier: MIT
// Compiled by the launcher in the --only test: a compiler run (gcc and its
// cc1 and as) under the preloaded library, which must not check it.
int tree_compile_me(int x);
int tree_compile_me(int x) { return x * 2; }
