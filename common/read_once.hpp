// Reading a plain field of shared memory that another process may scribble
// on: read it exactly once into local memory, check it there and use it from
// there. A second read could bring a value that was never checked, and the
// compiler may re-read a plain field unless the read is volatile.
#pragma once

namespace shmq {

template <typename T>
T read_once(const T& field) {
    return *static_cast<const volatile T*>(&field);
}

// Its counterpart for the rare field the broker rewrites while clients may
// read it: exactly one store, which the compiler may neither split nor drop.
template <typename T>
void write_once(T& field, T value) {
    *static_cast<volatile T*>(&field) = value;
}

}  // namespace shmq
