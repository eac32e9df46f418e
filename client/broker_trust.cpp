#include "client/broker_trust.hpp"

#include <cstdlib>

#include "platform/user_identity.hpp"

namespace shmq {

Status check_broker_owner(const std::string& configured, std::uint32_t owner, std::string& why) {
    std::string named = configured;
    if (named.empty()) {
        const char* from_environment = std::getenv("SHMQ_BROKER_OWNER");
        if (from_environment != nullptr) named = from_environment;
    }
    if (!named.empty()) {
        std::uint32_t trusted = 0;
        if (!platform::user_id_of(named, trusted)) {
            why = "the broker owner '" + named + "' is not a known user";
            return Status::invalid_argument;
        }
        if (owner == trusted) return Status::ok;
        why = "it belongs to " + platform::describe_user(owner) + ", not to the broker owner " +
              platform::describe_user(trusted);
        return Status::untrusted_segment;
    }
    std::uint32_t service_user = 0;
    const bool has_service_user = platform::user_id_of("shmq", service_user);
    if (owner == 0 || owner == platform::effective_user() || (has_service_user && owner == service_user)) {
        return Status::ok;
    }
    why = "it belongs to " + platform::describe_user(owner) +
          ", who is not trusted as a broker (trusted: root, the shmq user, this process's user; name another with "
          "AttachOptions::broker_owner, SHMQ_BROKER_OWNER or --broker-owner)";
    return Status::untrusted_segment;
}

}  // namespace shmq
