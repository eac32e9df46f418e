#include "bench/bridge/jetstream_client.hpp"

#include <stdexcept>

namespace shmq::bench {
namespace {

void check(natsStatus status, const std::string& what, jsErrCode code = static_cast<jsErrCode>(0)) {
    if (status == NATS_OK) return;
    throw std::runtime_error("NATS: " + what + ": " + natsStatus_GetText(status) +
                             (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "") + " " +
                             nats_GetLastError(nullptr));
}

}  // namespace

JetStreamClient::JetStreamClient(const std::string& url, int window) {
    natsOptions* options = nullptr;
    check(natsOptions_Create(&options), "options");
    natsOptions_SetURL(options, url.c_str());
    const natsStatus status = natsConnection_Connect(&connection_, options);
    natsOptions_Destroy(options);
    check(status, "connecting to " + url);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 10000;
    js_options.PublishAsync.MaxPending = window;
    // A full window waits for acks (200 ms by default: too short on a loaded machine).
    js_options.PublishAsync.StallWait = 30000;
    js_options.PublishAsync.ErrHandler = &JetStreamClient::on_publish_error;
    js_options.PublishAsync.ErrHandlerClosure = this;
    check(natsConnection_JetStream(&js_, connection_, &js_options), "JetStream context");
}

JetStreamClient::~JetStreamClient() {
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
}

void JetStreamClient::on_publish_error(jsCtx*, jsPubAckErr*, void* closure) {
    ++static_cast<JetStreamClient*>(closure)->failed_;
}

void JetStreamClient::create_stream(const std::string& name, const std::string& subjects) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    const char* subject_list[] = {subjects.c_str()};
    config.Subjects = subject_list;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = 1;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_AddStream(&info, js_, &config, nullptr, &code), "creating stream " + name, code);
    jsStreamInfo_Destroy(info);
}

void JetStreamClient::purge_stream(const std::string& name) {
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_PurgeStream(js_, name.c_str(), nullptr, &code), "purging stream " + name, code);
}

std::uint64_t JetStreamClient::stream_messages(const std::string& name) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_GetStreamInfo(&info, js_, name.c_str(), nullptr, &code), "stream " + name + "'s state", code);
    const auto messages = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    return messages;
}

void JetStreamClient::publish_async(const std::string& subject, const void* data, std::size_t size) {
    check(js_PublishAsync(js_, subject.c_str(), data, static_cast<int>(size), nullptr), "publishing to " + subject);
}

void JetStreamClient::publish_async_with_id(const std::string& subject, const void* data, std::size_t size,
                                            const std::string& id) {
    natsMsg* message = nullptr;
    check(natsMsg_Create(&message, subject.c_str(), nullptr, static_cast<const char*>(data), static_cast<int>(size)),
          "a message");
    natsStatus status = natsMsgHeader_Set(message, "Nats-Msg-Id", id.c_str());
    if (status == NATS_OK) status = js_PublishMsgAsync(js_, &message, nullptr);
    natsMsg_Destroy(message);  // null once the library took it
    check(status, "publishing to " + subject);
}

void JetStreamClient::wait_for_publish_acks() {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = 60000;
    check(js_PublishAsyncComplete(js_, &options), "waiting for publish acks");
}

void JetStreamClient::publish(const std::string& subject, const void* data, std::size_t size) {
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    check(js_Publish(&ack, js_, subject.c_str(), data, static_cast<int>(size), nullptr, &code),
          "publishing to " + subject, code);
    jsPubAck_Destroy(ack);
}

natsSubscription* JetStreamClient::subscribe(const std::string& subject) {
    natsSubscription* subscription = nullptr;
    check(natsConnection_SubscribeSync(&subscription, connection_, subject.c_str()), "subscribing to " + subject);
    // The subscription is in place at the server before anything is sent.
    check(natsConnection_Flush(connection_), "flushing");
    return subscription;
}

natsMsg* JetStreamClient::next_message(natsSubscription* subscription, std::int64_t timeout_ms) {
    natsMsg* message = nullptr;
    check(natsSubscription_NextMsg(&message, subscription, timeout_ms), "waiting for a message");
    return message;
}

}  // namespace shmq::bench
