// Standard output as bytes: messages are written exactly as they were sent,
// never with line endings translated (Windows' C runtime turns "\n" into
// "\r\n" on a text-mode stream, which would corrupt binary framing).
#pragma once

namespace shmq::platform {

// Call before anything is written to standard output.
void use_binary_standard_output();

}  // namespace shmq::platform
