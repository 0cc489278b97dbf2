// SPDX-License-Identifier: MIT
// libmono_strings.so: a native library that returns strings to C#, one
// made with new[] (no C# code may free it), one with malloc (what Mono's
// marshaller frees with free() on Linux, and .NET's with CoTaskMemFree on
// Windows), and the release function that the correct pattern calls.
// Built -O0 with frame pointers so that each function is a frame.
#include <cstdlib>
#include <cstring>

#define API extern "C" __attribute__((visibility("default"), noinline))

API char *make_new_string(void) {
    char *s = new char[16]; /* @alloc_new */
    strcpy(s, "from new[]");
    return s;
}

API char *make_malloc_string(void) {
    char *s = static_cast<char *>(malloc(16)); /* @alloc_malloc */
    strcpy(s, "from malloc");
    return s;
}

// The right way to give a string back: C# holds it as IntPtr and calls this.
API void release_string(char *s) { free(s); /* @release */ }

#ifdef _WIN32
#include <objbase.h>
#include <oleauto.h>

// For [return: MarshalAs(UnmanagedType.BStr)]: the marshaller frees the
// result with SysFreeString, so only a real BSTR is right.
API BSTR make_bstr(void) { return SysAllocString(L"a BSTR"); }

// A hand-made BSTR: a length prefix and the text in one CoTaskMemAlloc
// block. The marshaller reads it fine, then hands it to SysFreeString,
// which releases 4 bytes before it: not a block SysAllocString made.
API wchar_t *make_cotaskmem_wstring(void) {
    static const wchar_t text[] = L"a hand-made BSTR";
    char *block = static_cast<char *>(CoTaskMemAlloc(4 + sizeof text)); /* @alloc_fake_bstr */
    UINT bytes = sizeof text - sizeof(wchar_t);
    memcpy(block, &bytes, 4);
    memcpy(block + 4, text, sizeof text);
    return reinterpret_cast<wchar_t *>(block + 4);
}
#endif
