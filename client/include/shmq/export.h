/* SHMQ_API marks what libshmq exports. The library is built with hidden
 * visibility, so that only the public API (these headers) is part of its ABI
 * and its internals (the rings, the segment mapping, Boost.Interprocess
 * templates) can change without a new SONAME. C and C++. */
#ifndef SHMQ_EXPORT_H
#define SHMQ_EXPORT_H

/* SHMQ_LOCAL keeps a private member function of an exported class out of
 * the ABI. */
#if defined(__GNUC__)
#define SHMQ_API __attribute__((visibility("default")))
#define SHMQ_LOCAL __attribute__((visibility("hidden")))
#else
#define SHMQ_API
#define SHMQ_LOCAL
#endif

#endif
