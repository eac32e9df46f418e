/* SHMQ_API marks what libshmq exports. The library is built with hidden
 * visibility, so that only the public API (these headers) is part of its ABI
 * and its internals (the rings, the segment mapping, Boost.Interprocess
 * templates) can change without a new SONAME. C and C++. */
#ifndef SHMQ_EXPORT_H
#define SHMQ_EXPORT_H

/* SHMQ_LOCAL keeps a private member function of an exported class out of
 * the ABI. */
#if defined(_WIN32)
/* Windows: a DLL exports what is marked dllexport and nothing else (the
 * counterpart of hidden visibility); its users import the same symbols with
 * dllimport. CMake defines SHMQ_BUILDING_LIBRARY for the sources of
 * libshmq.dll and SHMQ_STATIC for what links libshmq's code statically (a
 * static libshmq's users, the daemon), where the functions are neither. An
 * exported class exports all its members, so SHMQ_LOCAL hides nothing. */
#if defined(SHMQ_BUILDING_LIBRARY)
#define SHMQ_API __declspec(dllexport)
#elif defined(SHMQ_STATIC)
#define SHMQ_API
#else
#define SHMQ_API __declspec(dllimport)
#endif
#define SHMQ_LOCAL
#elif defined(__GNUC__)
#define SHMQ_API __attribute__((visibility("default")))
#define SHMQ_LOCAL __attribute__((visibility("hidden")))
#else
#define SHMQ_API
#define SHMQ_LOCAL
#endif

#endif
