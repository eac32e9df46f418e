// Client::reload_configuration: a request through the segment's
// ReloadExchange (common/reload_exchange.hpp), answered by the broker at its
// next tick.
#include "shmq/client.hpp"

#include "client_impl.hpp"
#include "common/reload_exchange.hpp"

namespace shmq {

Status Client::reload_configuration(ReloadOutcome& outcome, Timeout timeout) {
    const auto timeout_ns = timeout == wait_forever || timeout.count() < 0
                                ? (timeout.count() < 0 ? 0 : UINT64_MAX)
                                : static_cast<std::uint64_t>(timeout.count());
    ReloadAnswer answer;
    const Status status = request_reload(impl_->view, timeout_ns, answer);
    if (status != Status::ok) return status;
    switch (answer.outcome) {
    case layout::reload_applied: outcome.result = ReloadOutcome::Result::applied; break;
    case layout::reload_needs_restart: outcome.result = ReloadOutcome::Result::needs_restart; break;
    default: outcome.result = ReloadOutcome::Result::refused; break;
    }
    outcome.report = std::move(answer.report);
    return Status::ok;
}

}  // namespace shmq
