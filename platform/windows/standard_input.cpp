// ReadFile on the standard input handle returns what a pipe or console holds
// as soon as it holds anything. A pipe whose writer closed reports
// ERROR_BROKEN_PIPE: that is the end of input, not an error.
#include "platform/standard_input.hpp"

#include <system_error>
#include <windows.h>

namespace shmq::platform {

std::size_t read_standard_input(void* buffer, std::size_t capacity) {
    const HANDLE input = ::GetStdHandle(STD_INPUT_HANDLE);
    const DWORD wanted = capacity > MAXDWORD ? MAXDWORD : static_cast<DWORD>(capacity);
    DWORD got = 0;
    if (!::ReadFile(input, buffer, wanted, &got, nullptr)) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_BROKEN_PIPE || code == ERROR_HANDLE_EOF) return 0;
        throw std::system_error(static_cast<int>(code), std::system_category(), "cannot read standard input");
    }
    return got;
}

}  // namespace shmq::platform
