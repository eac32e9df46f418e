#include "bridge/nats_link.hpp"

#include <vector>

#include "bridge/logging.hpp"

namespace shmq::bridge {

std::string nats_error(natsStatus status) {
    std::string text = natsStatus_GetText(status);
    natsStatus last = NATS_OK;
    const char* detail = nats_GetLastError(&last);
    // The detail repeats the status's text after a source location: only
    // a detail that adds something is worth showing.
    if (detail != nullptr && std::string(detail).find(text) == std::string::npos) text += std::string(" (") + detail + ")";
    return text;
}

NatsLink::NatsLink(const NatsSettings& settings) : settings_(settings) {}

NatsLink::~NatsLink() {
    closing_.store(true);
    if (connection_ != nullptr) {
        natsConnection_Close(connection_);
        natsConnection_Destroy(connection_);
    }
    natsOptions_Destroy(options_);
}

void NatsLink::on_disconnected(natsConnection*, void* self) {
    if (static_cast<NatsLink*>(self)->closing_.load()) return;
    BRIDGE_LOG(warning) << "NATS: disconnected; reconnecting (publishes are buffered meanwhile)";
}

void NatsLink::on_reconnected(natsConnection* connection, void*) {
    char url[256] = {};
    natsConnection_GetConnectedUrl(connection, url, sizeof url);
    BRIDGE_LOG(info) << "NATS: reconnected to " << url;
}

void NatsLink::on_error(natsConnection* connection, natsSubscription*, natsStatus status, void*) {
    const char* last = nullptr;
    natsConnection_GetLastError(connection, &last);
    BRIDGE_LOG(error) << "NATS: " << natsStatus_GetText(status) << (last != nullptr ? std::string(": ") + last : "")
                      << (status == NATS_NOT_PERMITTED ? " (the server's permissions refuse this user)" : "");
}

bool NatsLink::connect(std::string& error) {
    if (options_ == nullptr) {
        std::vector<const char*> urls;
        for (const auto& url : settings_.urls) urls.push_back(url.c_str());
        natsStatus status = natsOptions_Create(&options_);
        if (status == NATS_OK) status = natsOptions_SetServers(options_, urls.data(), static_cast<int>(urls.size()));
        if (status == NATS_OK) status = natsOptions_SetName(options_, settings_.name.c_str());
        if (status == NATS_OK) status = natsOptions_SetTimeout(options_, settings_.connect_timeout_ms);
        // Forever: a bridge that gave up on NATS would hold its routes still.
        if (status == NATS_OK) status = natsOptions_SetMaxReconnect(options_, -1);
        if (status == NATS_OK) status = natsOptions_SetReconnectWait(options_, settings_.reconnect_wait_ms);
        // Room for a whole window of every route while the client reconnects.
        if (status == NATS_OK) status = natsOptions_SetReconnectBufSize(options_, 64 * 1024 * 1024);
        if (status == NATS_OK) status = natsOptions_SetDisconnectedCB(options_, on_disconnected, this);
        if (status == NATS_OK) status = natsOptions_SetReconnectedCB(options_, on_reconnected, this);
        if (status == NATS_OK) status = natsOptions_SetErrorHandler(options_, on_error, this);
        if (status == NATS_OK && !settings_.credentials.empty()) {
            status = natsOptions_SetUserCredentialsFromFiles(options_, settings_.credentials.c_str(), nullptr);
        }
        if (status == NATS_OK && !settings_.user.empty()) {
            status = natsOptions_SetUserInfo(options_, settings_.user.c_str(), settings_.password.c_str());
        }
        if (status != NATS_OK) {
            error = "invalid NATS options: " + nats_error(status);
            natsOptions_Destroy(options_);
            options_ = nullptr;
            return false;
        }
    }
    const natsStatus status = natsConnection_Connect(&connection_, options_);
    if (status == NATS_OK) return true;
    std::string urls;
    for (const auto& url : settings_.urls) urls += (urls.empty() ? "" : ", ") + url;
    if (status == NATS_NO_SERVER) {
        error = "no NATS server reachable at " + urls + ": " + nats_error(status) + " (is nats.urls right?)";
    } else if (status == NATS_NOT_PERMITTED || status == NATS_CONNECTION_AUTH_FAILED) {
        error = "the NATS server refused the bridge's credentials: " + nats_error(status);
    } else {
        error = "cannot connect to NATS at " + urls + ": " + nats_error(status);
    }
    return false;
}

jsCtx* NatsLink::jetstream(std::string& error) const {
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = settings_.request_timeout_ms;
    jsCtx* js = nullptr;
    const natsStatus status = natsConnection_JetStream(&js, connection_, &options);
    if (status != NATS_OK) {
        error = "cannot open a JetStream context: " + nats_error(status);
        return nullptr;
    }
    return js;
}

namespace {

jsRetentionPolicy retention_of(const std::string& name) {
    if (name == "interest") return js_InterestPolicy;
    if (name == "workqueue") return js_WorkQueuePolicy;
    return js_LimitsPolicy;
}

std::string jetstream_error(natsStatus status, jsErrCode code, const std::string& what) {
    if (code == JSNotEnabledErr) return what + ": JetStream is not enabled on the NATS server";
    if (status == NATS_TIMEOUT || status == NATS_NO_RESPONDERS) {
        return what + ": no answer from JetStream (" + nats_error(status) +
               "): is JetStream enabled, does the cluster have a quorum, may this user call $JS.API?";
    }
    if (status == NATS_NOT_PERMITTED) return what + ": permission denied by the NATS server (" + nats_error(status) + ")";
    return what + ": " + nats_error(status) + (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "");
}

}  // namespace

bool ensure_stream(jsCtx* js, const RouteSettings& route, std::string& error) {
    const auto& stream = route.stream;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetStreamInfo(&info, js, stream.name.c_str(), nullptr, &code);
    if (status == NATS_OK) {
        jsStreamInfo_Destroy(info);
        return true;
    }
    if (status != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
        error = jetstream_error(status, code, "route " + route.name + ": cannot look stream " + stream.name + " up");
        return false;
    }
    if (!stream.create) {
        error = "route " + route.name + ": JetStream has no stream " + stream.name +
                " (create it, or set stream.create: true to let the bridge create it)";
        return false;
    }
    std::vector<const char*> subjects;
    for (const auto& subject : stream.subjects) subjects.push_back(subject.c_str());
    if (subjects.empty()) subjects.push_back(route.subject.c_str());
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = stream.name.c_str();
    config.Subjects = subjects.data();
    config.SubjectsLen = static_cast<int>(subjects.size());
    config.Retention = retention_of(stream.retention);
    config.Storage = stream.storage == "memory" ? js_MemoryStorage : js_FileStorage;
    config.Replicas = stream.replicas;
    config.MaxMsgs = stream.max_messages;
    config.MaxBytes = stream.max_bytes;
    config.MaxAge = static_cast<std::int64_t>(stream.max_age_s) * 1'000'000'000;
    config.Duplicates = static_cast<std::int64_t>(stream.duplicate_window_s) * 1'000'000'000;
    status = js_AddStream(&info, js, &config, nullptr, &code);
    if (status != NATS_OK) {
        error = jetstream_error(status, code, "route " + route.name + ": cannot create stream " + stream.name);
        return false;
    }
    jsStreamInfo_Destroy(info);
    BRIDGE_LOG(info) << "route " << route.name << ": created stream " << stream.name << " (" << stream.replicas
                     << " replicas, " << stream.retention << " retention, " << stream.storage << " storage)";
    return true;
}

}  // namespace shmq::bridge
