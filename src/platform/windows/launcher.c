// SPDX-License-Identifier: MIT
// crossfree.exe: `crossfree.exe run [-o key=value]... -- app.exe [args]`.
// Starts the target suspended, loads crossfree.dll (found beside this
// program) into it with a remote LoadLibraryW before its first instruction,
// resumes it, waits, and exits with its exit code. Never links the runtime.
#include <windows.h>

#include <shellapi.h>
#include <stdbool.h>
#include <stdio.h>
#include <wchar.h>

#define EXIT_USAGE 2
#define EXIT_LAUNCH 127

static void usage(void) {
    fwprintf(stderr, L"usage: crossfree.exe run [-o key=value]... -- app.exe [args...]\n"
                     L"  Runs app.exe with crossfree.dll loaded before its first instruction.\n"
                     L"  -o key=value  a CROSSFREE_OPTIONS entry (repeatable), e.g. -o "
                     L"halt_on_error=0\n"
                     L"  Exit status: the program's; 134 when crossfree stopped it after a "
                     L"report; 127 when it could not be started.\n");
}

static void fail(const wchar_t *what, const wchar_t *arg) {
    DWORD err = GetLastError();
    wchar_t msg[512] = L"";
    FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0, msg,
                   sizeof msg / sizeof msg[0], NULL);
    fwprintf(stderr, L"crossfree: %ls %ls: error %lu %ls\n", what, arg != NULL ? arg : L"",
             (unsigned long)err, msg);
}

// Appends `arg` to `cmd` quoted the way CommandLineToArgvW splits it back.
static void append_arg(wchar_t *cmd, size_t cap, const wchar_t *arg) {
    size_t len = wcslen(cmd);
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (len + 1 < cap)                                                                         \
            cmd[len++] = (c);                                                                      \
    } while (0)
    if (len > 0)
        PUT(L' ');
    if (arg[0] != 0 && wcspbrk(arg, L" \t\n\v\"") == NULL) {
        for (const wchar_t *p = arg; *p != 0; p++)
            PUT(*p);
    } else {
        PUT(L'"');
        for (const wchar_t *p = arg;; p++) {
            size_t slashes = 0;
            while (*p == L'\\') {
                slashes++;
                p++;
            }
            if (*p == 0) {
                for (size_t i = 0; i < slashes * 2; i++)
                    PUT(L'\\');
                break;
            }
            if (*p == L'"') {
                for (size_t i = 0; i < slashes * 2 + 1; i++)
                    PUT(L'\\');
            } else {
                for (size_t i = 0; i < slashes; i++)
                    PUT(L'\\');
            }
            PUT(*p);
        }
        PUT(L'"');
    }
    cmd[len] = 0;
#undef PUT
}

// crossfree.dll beside crossfree.exe.
static bool dll_path(wchar_t *out, size_t cap) {
    DWORD n = GetModuleFileNameW(NULL, out, (DWORD)cap);
    if (n == 0 || n >= cap)
        return false;
    wchar_t *slash = NULL;
    for (wchar_t *p = out; *p != 0; p++)
        if (*p == L'\\' || *p == L'/')
            slash = p;
    size_t dir = slash != NULL ? (size_t)(slash - out) + 1 : 0;
    static const wchar_t name[] = L"crossfree.dll";
    if (dir + sizeof name / sizeof name[0] > cap)
        return false;
    wcscpy(out + dir, name);
    return GetFileAttributesW(out) != INVALID_FILE_ATTRIBUTES;
}

// Loads `dll` into the suspended process: its loader runs the remote
// LoadLibraryW (and, first, the process's own start-up: static imports and
// their DllMains), so crossfree is in place before the program's entry point.
static bool inject(HANDLE process, const wchar_t *dll) {
    SIZE_T bytes = (wcslen(dll) + 1) * sizeof(wchar_t);
    void *remote = VirtualAllocEx(process, NULL, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (remote == NULL) {
        fail(L"cannot allocate memory in", L"the new process");
        return false;
    }
    if (!WriteProcessMemory(process, remote, dll, bytes, NULL)) {
        fail(L"cannot write to", L"the new process");
        return false;
    }
    // kernel32 sits at the same address in every process of a session.
    FARPROC load = GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "LoadLibraryW");
    HANDLE t = CreateRemoteThread(process, NULL, 0, (LPTHREAD_START_ROUTINE)(uintptr_t)load, remote,
                                  0, NULL);
    if (t == NULL) {
        fail(L"cannot start the loading thread in", L"the new process");
        return false;
    }
    WaitForSingleObject(t, INFINITE);
    DWORD code = 0;
    GetExitCodeThread(t, &code);
    CloseHandle(t);
    VirtualFreeEx(process, remote, 0, MEM_RELEASE);
    if (code == 0) {
        fwprintf(stderr, L"crossfree: the program could not load %ls\n", dll);
        return false;
    }
    return true;
}

static int run(int argc, wchar_t **argv) {
    // Options: CROSSFREE_OPTIONS as the caller set it, then each -o.
    static wchar_t options[32768];
    DWORD have = GetEnvironmentVariableW(L"CROSSFREE_OPTIONS", options, 32767);
    if (have >= 32767)
        have = 0;
    options[have] = 0;
    int i = 2;
    for (; i < argc; i++) {
        if (wcscmp(argv[i], L"--") == 0) {
            i++;
            break;
        }
        if (wcscmp(argv[i], L"-o") == 0 && i + 1 < argc) {
            i++;
            if (wcslen(options) + wcslen(argv[i]) + 2 >= sizeof options / sizeof options[0]) {
                fwprintf(stderr, L"crossfree: options too long\n");
                return EXIT_USAGE;
            }
            if (options[0] != 0)
                wcscat(options, L":");
            wcscat(options, argv[i]);
            continue;
        }
        if (wcsncmp(argv[i], L"-o", 2) == 0 && argv[i][2] != 0) {
            if (options[0] != 0)
                wcscat(options, L":");
            wcscat(options, argv[i] + 2);
            continue;
        }
        break; // the program, without a "--"
    }
    if (i >= argc) {
        usage();
        return EXIT_USAGE;
    }
    static wchar_t dll[MAX_PATH * 4];
    if (!dll_path(dll, sizeof dll / sizeof dll[0])) {
        fwprintf(stderr, L"crossfree: crossfree.dll not found beside crossfree.exe\n");
        return EXIT_LAUNCH;
    }
    static wchar_t cmd[32768];
    cmd[0] = 0;
    for (int k = i; k < argc; k++)
        append_arg(cmd, sizeof cmd / sizeof cmd[0], argv[k]);
    if (options[0] != 0)
        SetEnvironmentVariableW(L"CROSSFREE_OPTIONS", options);

    STARTUPINFOW si;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)) {
        fail(L"cannot start", argv[i]);
        return EXIT_LAUNCH;
    }
    if (!inject(pi.hProcess, dll)) {
        TerminateProcess(pi.hProcess, EXIT_LAUNCH);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        return EXIT_LAUNCH;
    }
    // Ctrl+C belongs to the program; crossfree.exe only waits for it.
    SetConsoleCtrlHandler(NULL, TRUE);
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = EXIT_LAUNCH;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    return (int)code;
}

int main(void) {
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (argv == NULL || argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    if (wcscmp(argv[1], L"--help") == 0 || wcscmp(argv[1], L"-h") == 0 ||
        wcscmp(argv[1], L"help") == 0) {
        usage();
        return 0;
    }
    if (wcscmp(argv[1], L"run") != 0) {
        fwprintf(stderr, L"crossfree: unknown command '%ls'\n", argv[1]);
        usage();
        return EXIT_USAGE;
    }
    int code = run(argc, argv);
    fflush(stdout);
    fflush(stderr);
    // ExitProcess keeps all 32 bits (the C runtime's exit would too, but
    // return from main goes through it and its atexit work first).
    ExitProcess((UINT)code);
}
