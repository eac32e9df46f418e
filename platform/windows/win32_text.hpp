// Text at the Win32 boundary: shmq's strings are UTF-8, the W functions take
// UTF-16; error codes become sentences people can read.
#pragma once

#include <string>

namespace shmq::platform::win32 {

std::wstring widen(const std::string& utf8);
std::string narrow(const std::wstring& utf16);
// The system's message for `code` (a GetLastError value), with the number.
std::string error_text(unsigned long code);
// error_text(GetLastError()).
std::string last_error_text();

}  // namespace shmq::platform::win32
