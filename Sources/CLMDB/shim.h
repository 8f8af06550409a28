#ifndef FOLIO_CLMDB_SHIM_H
#define FOLIO_CLMDB_SHIM_H
#include <lmdb.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Takes the blocks of the file's first `length` bytes, leaving its length as it is, as
   fallocate(2) does with FALLOC_FL_KEEP_SIZE: 0, or the error. Swift's Glibc module leaves fallocate out (a GNU
   extension); posix_fallocate is not used, as where the file system cannot allocate it writes
   zeros into the file, which another process may be using. */
static inline int folio_allocate(int descriptor, long long length) {
#if defined(SYS_fallocate) && defined(__LP64__)
    return syscall(SYS_fallocate, descriptor, 1 /* FALLOC_FL_KEEP_SIZE */, 0LL, length) == 0 ? 0 : errno;
#else
    (void)descriptor; (void)length;
    return EOPNOTSUPP;
#endif
}
#endif
