// SPDX-License-Identifier: MIT
// The parts of capture.h that are the same wherever one unwinder takes
// every stack (capture_macos.c, capture_win.c): no frame-pointer shortcut,
// no cache to keep, nothing to compare.
#include "stack/capture.h"

#include "stack/depot.h"

uintptr_t cf_capture_caller(void) {
    // No frame-pointer guarantee here: one frame of a normal capture.
    uintptr_t pc = 0;
    return cf_capture(&pc, 1) == 1 ? pc : 0;
}

uint32_t cf_capture_id(unsigned max) {
    uintptr_t pcs[CF_DEPOT_MAX_FRAMES];
    return cf_depot_put(pcs, cf_capture(pcs, max));
}

void cf_capture_set_fast(unsigned mode, unsigned max_frames) { (void)mode, (void)max_frames; }

uint64_t cf_capture_mismatches(void) { return 0; }

void cf_capture_modules_changed(void) {}
