// For the tests alone (library shmq_wine_console, Windows only): the Ctrl-C
// of a console program's console, under Wine. Wine 8.0 cannot send a console
// control event from one Windows process to another
// (GenerateConsoleCtrlEvent fails: docs/guarantees.md, "Windows"), but its
// ntdll turns a Unix SIGINT delivered to a Wine process into CTRL_C_EVENT,
// run through the handlers SetConsoleCtrlHandler registered: what a user's
// Ctrl-C in a terminal does to a Wine console program.
#pragma once

#include <string>

namespace shmq::platform {

// Sends SIGINT to the Unix process of the one Wine process whose command
// line holds `command_line_part` (found in /proc). Returns "" once the
// signal is on its way (its effect is the caller's to check: Wine gives no
// handle to wait for the Unix program that sends it), else why not: not
// under Wine, no such process or more than one.
std::string send_ctrl_c_under_wine(const std::string& command_line_part);

}  // namespace shmq::platform
