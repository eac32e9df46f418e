// The service's event source in the Windows Event Log: registered and
// removed with the service (service_host.cpp); opened by
// open_service_event_log() and written to by report_service_event()
// (service_host.hpp, implemented in event_log.cpp).
#pragma once

#include <string>

namespace shmq::platform::win32 {

// Registers the event source `name` in the Application log, its messages
// read from `message_file` (shmqd.exe itself, which holds the message table
// of event_messages.mc). Throws std::runtime_error saying why it could not.
void register_event_source(const std::string& name, const std::string& message_file);

// Removes the event source `name`; one that is not registered is no error.
// Throws std::runtime_error saying why it could not.
void remove_event_source(const std::string& name);

}  // namespace shmq::platform::win32
