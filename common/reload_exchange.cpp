#include "common/reload_exchange.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "common/monotonic_clock.hpp"
#include "common/process_identity.hpp"

namespace shmq {

namespace {
// Request numbers wrap; "at or after" is a signed difference.
bool at_or_after(std::uint32_t number, std::uint32_t reference) {
    return static_cast<std::int32_t>(number - reference) >= 0;
}
}  // namespace

std::uint32_t ask_for_reload(layout::ReloadExchange& exchange) {
    return exchange.requested.fetch_add(1, std::memory_order_acq_rel) + 1;
}

bool read_reload_answer(const layout::ReloadExchange& exchange, std::uint32_t request, ReloadAnswer& answer,
                        bool& malformed) {
    malformed = false;
    const auto answered = exchange.answered.load(std::memory_order_acquire);
    if (!at_or_after(answered, request)) return false;
    const auto outcome = exchange.outcome.load(std::memory_order_relaxed);
    const auto length = exchange.report_length.load(std::memory_order_relaxed);
    char copy[layout::reload_report_capacity];
    std::memcpy(copy, exchange.report, std::min<std::size_t>(length, sizeof copy));
    std::atomic_thread_fence(std::memory_order_acquire);
    // The broker stores `answering` before it touches the answer: the same
    // number afterwards means nothing above was being rewritten.
    if (exchange.answering.load(std::memory_order_relaxed) != answered) return false;
    if (outcome < layout::reload_applied || outcome > layout::reload_refused || length > sizeof copy) {
        malformed = true;
        return false;
    }
    answer.outcome = outcome;
    answer.report.assign(copy, length);
    return true;
}

Status request_reload(const SegmentView& view, std::uint64_t timeout_ns, ReloadAnswer& answer) {
    // How long one sleep lasts at most: a broker killed meanwhile wakes
    // nobody, so the waiter looks at its process on its own.
    constexpr std::uint64_t check_interval_ns = 100'000'000;
    auto& exchange = view.root().reload;
    if (view.broker_stopping()) return Status::broker_stopped;
    const auto request = ask_for_reload(exchange);
    const auto deadline = Deadline::after(std::chrono::nanoseconds(std::min<std::uint64_t>(timeout_ns, INT64_MAX)));
    for (;;) {
        const auto ticket = exchange.answer_event.prepare_wait();
        bool malformed = false;
        Status status = Status::timeout;
        if (read_reload_answer(exchange, request, answer, malformed)) {
            status = Status::ok;
        } else if (malformed) {
            status = Status::corrupt_segment;
        } else if (view.broker_stopping() || !is_alive(view.root().broker)) {
            status = Status::broker_stopped;
        } else if (!deadline.expired()) {
            // The answer is notified to every waiter at once: nothing to hand on.
            static_cast<void>(exchange.answer_event.wait(ticket, deadline.remaining_ns(check_interval_ns)));
            continue;
        }
        exchange.answer_event.cancel_wait();
        return status;
    }
}

bool reload_waiting(const layout::ReloadExchange& exchange, std::uint32_t last_answered, std::uint32_t& request) {
    request = exchange.requested.load(std::memory_order_acquire);
    return request != last_answered;
}

void answer_reload(layout::ReloadExchange& exchange, std::uint32_t request, std::uint32_t outcome,
                   const std::string& report) {
    exchange.answering.store(request, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    static const std::string cut = "\n... (cut short: the broker's log has every line)";
    const auto fits = report.size() <= layout::reload_report_capacity;
    const auto kept = fits ? report.size() : layout::reload_report_capacity - cut.size();
    std::memcpy(exchange.report, report.data(), kept);
    if (!fits) std::memcpy(exchange.report + kept, cut.data(), cut.size());
    const auto length = fits ? kept : layout::reload_report_capacity;
    exchange.report_length.store(static_cast<std::uint32_t>(length), std::memory_order_relaxed);
    exchange.outcome.store(outcome, std::memory_order_relaxed);
    exchange.answered.store(request, std::memory_order_release);
    exchange.answer_event.notify_all();
}

}  // namespace shmq
