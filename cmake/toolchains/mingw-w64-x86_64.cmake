# Cross-compiling shmq for 64-bit Windows with Debian's MinGW-w64 (package
# g++-mingw-w64-x86-64-posix: the posix thread model, which std::thread and
# std::mutex need). scripts/build-windows uses this file; it can also be
# passed by hand with -DCMAKE_TOOLCHAIN_FILE.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SHMQ_MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${SHMQ_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SHMQ_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${SHMQ_MINGW_TRIPLET}-windres)
set(CMAKE_MC_COMPILER ${SHMQ_MINGW_TRIPLET}-windmc)

# Libraries and packages come from MinGW's own tree and from the prefix the
# cross-built dependencies are installed in (CMAKE_PREFIX_PATH), never from
# the Linux system; programs (scdoc, ...) come from the build machine.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${SHMQ_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static executables, and a libshmq DLL with the C++ runtime linked in, run
# under Wine (and on a bare Windows machine) without the MinGW runtime DLLs
# beside them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# --exclude-libs: the DLL exports its own symbols, not the static runtime's
# (the executables link that runtime too: _Unwind_Resume would clash).
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -Wl,--exclude-libs,libgcc.a:libgcc_eh.a:libstdc++.a:libwinpthread.a")
