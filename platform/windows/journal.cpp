// Windows has no systemd journal; the service's logs go to the event log
// (issue 10) instead.
#include "platform/journal.hpp"

namespace shmq::platform {

bool standard_error_is_journal() { return false; }

}  // namespace shmq::platform
