// The way in for operator requests that do not come from the console: the
// Service Control Manager's controls (service_host.cpp) join the console
// control events in the queue wait_for_operator_request() reads
// (stop_requests.cpp).
#pragma once

#include "platform/stop_requests.hpp"

namespace shmq::platform::win32 {

void post_operator_request(const OperatorRequest& request);

}  // namespace shmq::platform::win32
