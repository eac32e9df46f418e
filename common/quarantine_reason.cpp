#include "common/quarantine_reason.hpp"

namespace shmq {

const char* quarantine_reason_name(std::uint32_t reason) {
    switch (static_cast<layout::QuarantineReason>(reason)) {
    case layout::QuarantineReason::none: return "none";
    case layout::QuarantineReason::damaged_metadata: return "damaged_metadata";
    case layout::QuarantineReason::inconsistent_counters: return "inconsistent_counters";
    case layout::QuarantineReason::damaged_slot: return "damaged_slot";
    case layout::QuarantineReason::inconsistent_subscriber: return "inconsistent_subscriber";
    }
    return "unknown";
}

void mark_quarantined(std::atomic<std::uint32_t>& quarantined, layout::QuarantineReason reason) {
    std::uint32_t in_service = 0;
    quarantined.compare_exchange_strong(in_service, static_cast<std::uint32_t>(reason), std::memory_order_release,
                                        std::memory_order_relaxed);
}

}  // namespace shmq
