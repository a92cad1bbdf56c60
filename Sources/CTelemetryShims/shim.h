#include <zlib.h>
#include <unistd.h>
#include <sys/syscall.h>

/// The calling thread's kernel id (glibc's gettid() is not visible to Swift on every libc version).
static inline long telemetry_gettid(void) { return syscall(SYS_gettid); }
