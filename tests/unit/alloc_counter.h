// SPDX-License-Identifier: MIT
// Counting the allocator calls a unit test makes while a window is open, to
// prove that code meant for the inside of malloc and free never calls them.
// Only the plain builds define malloc; under ASan the sanitizer owns it and
// CF_TEST_COUNTS_ALLOCS is 0, so the "no malloc" tests are left out.
#ifndef CF_TEST_ALLOC_COUNTER_H
#define CF_TEST_ALLOC_COUNTER_H

// Left out rather than skip()ped: cmocka 1.1.5 prints a skipped test as
// "not ok N # SKIP", which meson's TAP parser counts as a failure.
#if defined(CF_TEST_ASAN) && CF_TEST_ASAN
#define CF_TEST_COUNTS_ALLOCS 0
#else
#define CF_TEST_COUNTS_ALLOCS 1
#endif

// Opens the window: from now on every allocator call in the process counts.
void cf_test_alloc_count_start(void);
// Closes the window and returns how many calls it saw.
unsigned long cf_test_alloc_count_stop(void);

#endif
