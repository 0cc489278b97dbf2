// SPDX-License-Identifier: MIT
// The POSIX half of the platform contract (platform.h), shared by Linux and
// macOS: memory, files, time and process exit through system calls that do
// not allocate. Nothing here may call malloc or stdio (except at exit).
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "platform/platform.h"

void *cf_os_map(size_t bytes, bool reserve_only) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_NORESERVE
    if (reserve_only)
        flags |= MAP_NORESERVE;
#else
    (void)reserve_only; // macOS commits anonymous pages on first touch anyway
#endif
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void cf_os_unmap(void *p, size_t bytes) { munmap(p, bytes); }

size_t cf_os_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static int stderr_copy = -1; // cf_os_keep_stderr
static dev_t stderr_dev;
static ino_t stderr_ino;

void cf_os_keep_stderr(void) {
    int saved = errno;
    struct stat sb;
    int fd = fcntl(CF_FD_STDERR, F_DUPFD_CLOEXEC, 100);
    if (fd >= 0 && fstat(fd, &sb) == 0) {
        stderr_dev = sb.st_dev;
        stderr_ino = sb.st_ino;
        stderr_copy = fd;
    } else if (fd >= 0) {
        close(fd);
    }
    errno = saved;
}

static int write_fd(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int cf_os_write_all(int fd, const char *s, size_t n) {
    int saved = errno; // reports happen inside free(): the caller's errno survives
    int err = write_fd(fd, s, n);
    struct stat sb;
    if (err == EBADF && fd == CF_FD_STDERR && stderr_copy >= 0 && fstat(stderr_copy, &sb) == 0 &&
        sb.st_dev == stderr_dev && sb.st_ino == stderr_ino)
        err = write_fd(stderr_copy, s, n);
    errno = saved;
    return err;
}

bool cf_os_file_unlinked(int fd) {
    int saved = errno;
    struct stat sb;
    bool gone = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 0;
    errno = saved;
    return gone;
}

int cf_os_open_log(const char *path) {
    int saved = errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0666);
    int err = errno;
    errno = saved;
    return fd >= 0 ? fd : -err;
}

void cf_os_close(int fd) { close(fd); }

long cf_os_read_file(const char *path, char *buf, size_t cap) {
    int saved = errno;
    // O_NONBLOCK: opening a FIFO must not hang the program's start-up.
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        errno = saved;
        return -err;
    }
    size_t have = 0;
    long result = 0;
    while (have < cap) {
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            result = -errno; // EISDIR for a directory
            break;
        }
        if (r == 0)
            break;
        have += (size_t)r;
    }
    close(fd);
    errno = saved;
    return result < 0 ? result : (long)have;
}

const char *cf_os_strerror(int err) {
    // strerror() may allocate for unknown codes; the common ones are enough.
    switch (err) {
    case ENOENT:
        return "No such file or directory";
    case EACCES:
        return "Permission denied";
    case EEXIST:
        return "File exists (not overwritten)";
    case ELOOP:
        return "Is a symbolic link (not followed)";
    case ENOTDIR:
        return "Not a directory";
    case EROFS:
        return "Read-only file system";
    case ENOSPC:
        return "No space left on device";
    case EISDIR:
        return "Is a directory";
    case ENAMETOOLONG:
        return "File name too long";
    case EPERM:
        return "Operation not permitted (a sandbox?)";
    case EMFILE:
    case ENFILE:
        return "Too many open files";
    case EFBIG:
        return "File too large (RLIMIT_FSIZE?)";
    case EIO:
        return "Input/output error";
    case EDQUOT:
        return "Disk quota exceeded";
    default:
        return "Cannot open";
    }
}

int cf_os_getpid(void) { return (int)getpid(); }

void cf_os_yield(void) { sched_yield(); }

int cf_os_cancel_disable(void) {
    int old = PTHREAD_CANCEL_ENABLE;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    return old;
}

void cf_os_cancel_restore(int state) {
    int ignored;
    pthread_setcancelstate(state, &ignored);
}

uint64_t cf_os_time_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

_Noreturn void cf_os_abort(void) { abort(); }

_Noreturn void cf_os_exit_now(int status) {
    fflush(NULL); // the program's buffered output is part of its behaviour
    _exit(status);
}
