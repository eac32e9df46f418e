/* SHMQ_API marks what libshmq exports. The library is built with hidden
 * visibility, so that only the public API (these headers) is part of its ABI
 * and its internals (the rings, the segment mapping, Boost.Interprocess
 * templates) can change without a new SONAME. C and C++. */
#ifndef SHMQ_EXPORT_H
#define SHMQ_EXPORT_H

/* SHMQ_LOCAL keeps a private member function of an exported class out of
 * the ABI. */
#if defined(_WIN32)
/* Windows (MinGW-w64): the DLL exports all of its functions, as the linker
 * does when none is marked dllexport; GCC's visibility attribute does not
 * apply to PE files (docs/platform.md, "Windows"). */
#define SHMQ_API
#define SHMQ_LOCAL
#elif defined(__GNUC__)
#define SHMQ_API __attribute__((visibility("default")))
#define SHMQ_LOCAL __attribute__((visibility("hidden")))
#else
#define SHMQ_API
#define SHMQ_LOCAL
#endif

#endif
