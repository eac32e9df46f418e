// Whether standard error goes to the system journal (systemd-journald), so
// that log lines can carry their priority in the form the journal reads.
#pragma once

namespace shmq::platform {

bool standard_error_is_journal();

}  // namespace shmq::platform
