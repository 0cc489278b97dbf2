// SPDX-License-Identifier: MIT
// A program that allocates nothing itself: help=1 must still print the
// options (crossfree starts from its constructor, not from a first malloc).
int main(void) { return 0; }
