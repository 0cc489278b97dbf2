// SPDX-License-Identifier: MIT
// Go with cgo: C code hands Go a buffer made with the C++ runtime's
// operator new[], and Go releases it with C.free. check_go.py runs it
// under crossfree: the report says the free came from Go (cgo), its frames
// borrow no file:line from unrelated C code, and Go's own goroutine dump
// after the abort names the Go line (the @go_free marker).
// `cgo_free clean` frees a malloc'd buffer the same way: no report.
package main

/*
#cgo LDFLAGS: -lstdc++
#include <stdlib.h>
extern void *_Znam(unsigned long);
static char *make_buffer(void) { return (char *)_Znam(64); }
static char *make_malloc_buffer(void) { return malloc(64); }
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func release(p *C.char) {
	C.free(unsafe.Pointer(p)) // @go_free
}

func main() {
	p := C.make_buffer()
	if len(os.Args) > 1 && os.Args[1] == "clean" {
		p = C.make_malloc_buffer()
	}
	fmt.Println("go: made")
	release(p)
	fmt.Println("go: done")
}
