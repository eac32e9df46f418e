// shmq replay FILE: send the messages of a set-aside segment (NAME.stale-TIME,
// which a broker left when it could not reuse its segment) into the running
// broker's queues of the same name, and say per queue what became of them.
#include <cstdio>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"
#include "shmq/segment_file.hpp"

namespace shmq::cli {

namespace {

struct Outcome {
    std::uint64_t replayed = 0;
    std::uint64_t skipped = 0;
    std::string why;  // why some were skipped
};

// Sends `saved`'s messages in order, blocking while the queue is full.
// Stops at a failure that would fail every later send too.
Outcome replay_queue(Client& client, const SavedQueue& saved) {
    Outcome outcome;
    Queue queue;
    const Status opened = client.open_queue(saved.name, queue);
    if (opened != Status::ok) {
        outcome.skipped = saved.messages.size();
        outcome.why = opened == Status::queue_not_found
                          ? "broker '" + client.broker_name() + "' has no queue '" + saved.name + "'"
                          : status_text(opened);
        return outcome;
    }
    for (std::size_t index = 0; index < saved.messages.size(); ++index) {
        const Status sent = queue.send(saved.messages[index], wait_forever);
        if (sent == Status::ok) {
            ++outcome.replayed;
            continue;
        }
        if (sent == Status::message_too_large) {
            ++outcome.skipped;
            outcome.why = "longer than the queue's max_message_size " + std::to_string(queue.max_message_size());
            continue;
        }
        outcome.skipped += saved.messages.size() - index;
        outcome.why = status_text(sent);
        break;
    }
    return outcome;
}

}  // namespace

int run_replay(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("replay", "FILE [options]",
                            "Sends the messages of a set-aside segment FILE (NAME.stale-TIME, left by a\n"
                            "broker that could not reuse its segment) into the broker's queues of the same\n"
                            "name, in order, waiting while a queue is full. Unacknowledged deliveries come\n"
                            "first, as the broker would have delivered them again. FILE is only read. Prints\n"
                            "per queue how many messages were replayed and how many skipped, and why.\n"
                            "Replaying a file twice sends its messages twice: use --remove.",
                            broker);
    parser.add_options()("queue,q", po::value<std::vector<std::string>>()->composing(),
                         "replay only this queue (repeatable)")(
        "remove", po::bool_switch(), "remove FILE once every message it holds was replayed");
    parser.add_positional("file", po::value<std::string>(), 1, true);
    parser.set_epilog("Exit status: 0 when every message asked for was replayed (and, with --remove,\n"
                      "FILE removed); 1 otherwise; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto file = variables["file"].as<std::string>();
    std::set<std::string> wanted;
    if (variables.count("queue")) {
        for (const auto& name : variables["queue"].as<std::vector<std::string>>()) wanted.insert(name);
    }
    std::vector<SavedQueue> saved;
    std::string error;
    const Status read = read_segment_file(file, saved, &error);
    if (read != Status::ok) {
        return report_error(exit_failure, "cannot replay " + error + " (" + status_text(read) + ")");
    }
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;

    bool complete = true;      // every message asked for was replayed
    bool everything = true;    // every message in the file was replayed
    std::set<std::string> found;
    for (const auto& queue : saved) {
        found.insert(queue.name);
        if (!wanted.empty() && wanted.count(queue.name) == 0) {
            if (!queue.messages.empty()) everything = false;
            continue;
        }
        const auto outcome = replay_queue(*client, queue);
        std::cout << "queue '" << queue.name << "': " << outcome.replayed << " replayed";
        if (outcome.skipped > 0) std::cout << ", " << outcome.skipped << " skipped: " << outcome.why;
        if (!queue.damage.empty()) std::cout << "; the file's queue is damaged (" << queue.damage << "): only its sound messages were read";
        std::cout << "\n";
        if (outcome.skipped > 0 || !queue.damage.empty()) complete = everything = false;
    }
    for (const auto& name : wanted) {
        if (found.count(name) != 0) continue;
        std::cout << "queue '" << name << "': not in " << file << "\n";
        complete = false;
    }
    if (!variables["remove"].as<bool>()) return complete ? exit_ok : exit_failure;
    if (!everything) {
        std::cout << "kept " << file << ": it holds messages that were not replayed\n";
        return exit_failure;
    }
    if (std::remove(file.c_str()) != 0) return report_error(exit_failure, "cannot remove " + file);
    std::cout << "removed " << file << "\n";
    return complete ? exit_ok : exit_failure;
}

}  // namespace shmq::cli
