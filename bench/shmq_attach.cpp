#include "bench/shmq_attach.hpp"

namespace shmq::bench {

const char* wait_name(ShmqWait wait) {
    switch (wait) {
    case ShmqWait::block: return "block";
    case ShmqWait::spin_then_block: return "spin_then_block";
    case ShmqWait::busy_poll: return "busy_poll";
    }
    return "?";
}

std::unique_ptr<Client> attach_client(const std::string& broker, ShmqWait wait) {
    AttachOptions options;
    options.broker = broker;
    options.wait = wait == ShmqWait::block             ? WaitStrategy::block
                   : wait == ShmqWait::spin_then_block ? WaitStrategy::spin_then_block
                                                       : WaitStrategy::busy_poll;
    options.program = "shmq_bench";
    std::unique_ptr<Client> client;
    std::string error;
    if (Client::attach(options, client, &error) != Status::ok) throw std::runtime_error("shmq: attach: " + error);
    return client;
}

}  // namespace shmq::bench
