#include "bridge/topic_resume.hpp"

#include <charconv>
#include <string_view>

#include "bridge/nats_link.hpp"

namespace shmq::bridge {

std::string topic_message_prefix(const std::string& origin, const std::string& topic, const std::string& broker_run) {
    return origin + "/topic/" + topic + "/" + broker_run + "/";
}

bool find_resume_point(jsCtx* js, const std::string& stream, const std::string& subject, const std::string& prefix,
                       ResumePoint& point, std::string& error) {
    point = ResumePoint{};
    natsMsg* last = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus status = js_GetLastMsg(&last, js, stream.c_str(), subject.c_str(), nullptr, &code);
    if (status == NATS_NOT_FOUND || code == JSNoMessageFoundErr) return true;
    if (status != NATS_OK) {
        error = "cannot read the last message of " + subject + " in stream " + stream + ": " + nats_error(status) +
                (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "");
        return false;
    }
    const char* id = nullptr;
    if (natsMsgHeader_Get(last, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
        const std::string_view text(id);
        if (text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0) {
            const auto digits = text.substr(prefix.size());
            const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), point.last_position);
            point.known = parsed.ec == std::errc() && parsed.ptr == digits.data() + digits.size();
        }
    }
    natsMsg_Destroy(last);
    return true;
}

}  // namespace shmq::bridge
