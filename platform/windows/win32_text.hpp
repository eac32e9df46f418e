// Text at the Win32 boundary: shmq's strings are UTF-8, the W functions take
// UTF-16; error codes become sentences people can read; arguments are quoted
// into a command line.
#pragma once

#include <string>

namespace shmq::platform::win32 {

std::wstring widen(const std::string& utf8);
std::string narrow(const std::wstring& utf16);
// The system's message for `code` (a GetLastError value), with the number.
std::string error_text(unsigned long code);
// error_text(GetLastError()).
std::string last_error_text();
// `argument` quoted for a command line, so that the C runtime (and
// CommandLineToArgvW) splits it back into the same argument.
std::wstring quoted_argument(const std::wstring& argument);

}  // namespace shmq::platform::win32
