#include <zlib.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <malloc.h>
#include <fcntl.h>

/// The calling thread's kernel id (glibc's gettid() is not visible to Swift on every libc version).
static inline long telemetry_gettid(void) { return syscall(SYS_gettid); }

/// Moves the calling thread to SCHED_IDLE (5 on Linux; the name needs _GNU_SOURCE): it then runs only on idle cores.
static inline int telemetry_set_idle_priority(void) {
    struct sched_param param = {0};
    return pthread_setschedparam(pthread_self(), 5, &param);
}

/// Returns the heap's free memory to the system (glibc): after the event table's start-up load, and when the
/// query thread has been idle for a while.
static inline void telemetry_release_free_heap(void) { malloc_trim(0); }

/// Sets the size from which glibc serves an allocation with its own mapping, given back whole when freed, and the
/// free space at a heap's top it keeps (twice that). Fixing it turns glibc's adaptive threshold off.
static inline void telemetry_set_mapped_allocation_threshold(size_t bytes) {
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    mallopt(M_TRIM_THRESHOLD, (int)(2 * bytes));
}

/// glibc's memmem (string.h declares it only under _GNU_SOURCE): whether `needle` occurs in `haystack`.
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
static inline int telemetry_contains(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen) {
    return memmem(haystack, haystacklen, needle, needlelen) != 0;
}

/// Names the calling thread where top -H, perf and /proc/PID/task/*/comm show it (the kernel keeps 15 bytes).
#include <sys/prctl.h>
static inline void telemetry_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/// An unnamed file in `directory` (O_TMPFILE), gone with its last descriptor; -1 where the file system has none.
static inline int telemetry_open_unnamed(const char *directory) {
    return open(directory, __O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/// Frees the blocks of a range of a file, its size unchanged (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE).
static inline int telemetry_punch_hole(int fd, long offset, long length) {
    return (int)syscall(SYS_fallocate, fd, 0x02 | 0x01, offset, length);
}
