/* The C API (shmq/shmq.h) from C, against a real shmqd started here: every
 * area of the API once, with the statuses a C caller relies on. */
#define _POSIX_C_SOURCE 200809L

#include <shmq/shmq.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int failures = 0;

#define CHECK(condition)                                                          \
    do {                                                                          \
        if (!(condition)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            ++failures;                                                           \
        }                                                                         \
    } while (0)

#define CHECK_STATUS(call, expected)                                                              \
    do {                                                                                          \
        const shmq_status got_ = (call);                                                          \
        if (got_ != (expected)) {                                                                 \
            fprintf(stderr, "%s:%d: %s gave %s, expected %s\n", __FILE__, __LINE__, #call,        \
                    shmq_status_name(got_), shmq_status_name(expected));                          \
            ++failures;                                                                           \
        }                                                                                         \
    } while (0)

/* Fatal: what follows would only add noise. */
#define REQUIRE_OK(call)                                                                          \
    do {                                                                                          \
        const shmq_status got_ = (call);                                                          \
        if (got_ != SHMQ_OK) {                                                                    \
            fprintf(stderr, "%s:%d: %s gave %s\n", __FILE__, __LINE__, #call, shmq_status_name(got_)); \
            stop_broker();                                                                        \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

static const int64_t second = 1000000000LL;
static char broker_name[64];
static char directory[] = "/tmp/shmq-c-api-XXXXXX";
static pid_t broker = -1;

static void stop_broker(void) {
    if (broker <= 0) return;
    kill(broker, SIGTERM);
    int status = 0;
    waitpid(broker, &status, 0);
    broker = -1;
    char path[256];
    snprintf(path, sizeof path, "%s/shmqd.yaml", directory);
    unlink(path);
    snprintf(path, sizeof path, "%s/shmqd.log", directory);
    unlink(path);
    rmdir(directory);
}

/* The broker's configuration; with_work 0: queue "work" removed (for a reload). */
static void write_config(int with_work) {
    char config[256];
    snprintf(config, sizeof config, "%s/shmqd.yaml", directory);
    FILE* file = fopen(config, "w");
    if (file == NULL) {
        perror("fopen");
        exit(1);
    }
    fprintf(file,
            "broker:\n  name: %s\n"
            "queues:\n"
            "%s"
            "  - name: jobs\n    capacity: 8\n    max_message_size: 64\n    delivery: at_least_once\n"
            "    ack_timeout_ms: 100\n"
            "  - name: ticks\n    capacity: 4\n    max_message_size: 16\n"
            "    producers: single\n    consumers: single\n"
            "topics:\n"
            "  - name: prices\n    capacity: 16\n    max_message_size: 128\n    history: 2\n",
            broker_name, with_work ? "  - name: work\n    capacity: 8\n    max_message_size: 64\n" : "");
    fclose(file);
}

static void start_broker(void) {
    if (mkdtemp(directory) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(broker_name, sizeof broker_name, "c-api-test-%ld", (long)getpid());
    write_config(1);
    char config[256];
    snprintf(config, sizeof config, "%s/shmqd.yaml", directory);
    char log[256];
    snprintf(log, sizeof log, "%s/shmqd.log", directory);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    char* argv[] = {SHMQD, "--config", config, NULL};
    if (posix_spawn(&broker, SHMQD, &actions, NULL, argv, environ) != 0) {
        perror("posix_spawn " SHMQD);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&actions);
}

/* Attaches, waiting (generously: the machine may be busy) for the broker to
 * have built its segment. */
static shmq_client* attach_when_ready(void) {
    shmq_attach_options options;
    shmq_attach_options_init(&options);
    options.broker = broker_name;
    options.program = "c_api_tests";
    options.wait = SHMQ_WAIT_BLOCK;
    for (int attempt = 0; attempt < 600; ++attempt) {
        shmq_client* client = NULL;
        char error[256];
        const shmq_status status = shmq_attach(&options, &client, error, sizeof error);
        if (status == SHMQ_OK) return client;
        int exit_status = 0;
        if (waitpid(broker, &exit_status, WNOHANG) == broker) {
            fprintf(stderr, "shmqd exited early; see %s/shmqd.log\n", directory);
            exit(1);
        }
        const struct timespec pause = {0, 50000000L};
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "shmqd was not ready within 30 s\n");
    stop_broker();
    exit(1);
}

static void test_version_and_statuses(void) {
    CHECK(strcmp(shmq_version(), SHMQ_VERSION_EXPECTED) == 0);
    CHECK(strcmp(shmq_status_name(SHMQ_QUEUE_FULL), "queue_full") == 0);
    CHECK(strcmp(shmq_status_name(SHMQ_CLIENT_RECLAIMED), "client_reclaimed") == 0);
    CHECK(strcmp(shmq_status_name(SHMQ_QUEUE_REMOVED), "queue_removed") == 0);
    CHECK(strstr(shmq_status_text(SHMQ_QUEUE_REMOVED), "removed") != NULL);
    CHECK(strcmp(shmq_status_name(SHMQ_EXCLUSIVE_HELD), "exclusive_held") == 0);
    CHECK(strlen(shmq_status_text(SHMQ_BROKER_NOT_FOUND)) > 10);
    CHECK(strcmp(shmq_status_text(999), "unknown status") == 0);
    CHECK(strcmp(shmq_status_name(-1), "unknown status") == 0);
}

static void test_attach_errors(void) {
    shmq_attach_options options;
    shmq_attach_options_init(&options);
    CHECK(options.wait == SHMQ_WAIT_SPIN_THEN_BLOCK);
    options.broker = "c-api-test-no-such-broker";
    shmq_client* client = NULL;
    char error[256] = "";
    CHECK_STATUS(shmq_attach(&options, &client, error, sizeof error), SHMQ_BROKER_NOT_FOUND);
    CHECK(client == NULL);
    CHECK(strstr(error, "c-api-test-no-such-broker") != NULL);
    /* A tiny error buffer is cut, still terminated. */
    char tiny[8];
    CHECK_STATUS(shmq_attach(&options, &client, tiny, sizeof tiny), SHMQ_BROKER_NOT_FOUND);
    CHECK(strlen(tiny) == sizeof tiny - 1);
    options.broker = "bad/name";
    CHECK_STATUS(shmq_attach(&options, &client, NULL, 0), SHMQ_INVALID_ARGUMENT);
    options.broker = broker_name;
    options.wait = 7;
    CHECK_STATUS(shmq_attach(&options, &client, error, sizeof error), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_attach(NULL, NULL, NULL, 0), SHMQ_INVALID_ARGUMENT);
}

static void test_queue(shmq_client* client) {
    shmq_queue* queue = NULL;
    CHECK_STATUS(shmq_queue_open(client, "missing", &queue), SHMQ_QUEUE_NOT_FOUND);
    REQUIRE_OK(shmq_queue_open(client, "work", &queue));
    CHECK(strcmp(shmq_queue_name(queue), "work") == 0);
    CHECK(shmq_queue_capacity(queue) == 8);
    CHECK(shmq_queue_max_message_size(queue) == 64);

    char buffer[64];
    size_t size = 0;
    CHECK_STATUS(shmq_queue_try_receive(queue, buffer, sizeof buffer, &size, NULL), SHMQ_EMPTY);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, sizeof buffer, &size, NULL, second / 50), SHMQ_TIMEOUT);
    CHECK_STATUS(shmq_queue_send(queue, "hello", 5, SHMQ_WAIT_FOREVER), SHMQ_OK);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, 2, &size, NULL, SHMQ_NO_WAIT), SHMQ_BUFFER_TOO_SMALL);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, sizeof buffer, &size, NULL, SHMQ_WAIT_FOREVER), SHMQ_OK);
    CHECK(size == 5 && memcmp(buffer, "hello", 5) == 0);

    char large[65] = {0};
    CHECK_STATUS(shmq_queue_send(queue, large, sizeof large, SHMQ_NO_WAIT), SHMQ_MESSAGE_TOO_LARGE);
    for (int i = 0; i < 8; ++i) CHECK_STATUS(shmq_queue_try_send(queue, "x", 1), SHMQ_OK);
    CHECK_STATUS(shmq_queue_try_send(queue, "x", 1), SHMQ_QUEUE_FULL);
    CHECK_STATUS(shmq_queue_send(queue, "x", 1, second / 50), SHMQ_TIMEOUT);

    shmq_incoming incoming[16];
    char buffers[16][64];
    for (int i = 0; i < 16; ++i) incoming[i] = (shmq_incoming){buffers[i], sizeof buffers[i], 0, 0};
    size_t received = 0;
    CHECK_STATUS(shmq_queue_receive_batch(queue, incoming, 16, &received, second), SHMQ_OK);
    CHECK(received == 8);

    const shmq_outgoing outgoing[3] = {{"one", 3}, {"two", 3}, {"three", 5}};
    size_t sent = 99;
    CHECK_STATUS(shmq_queue_send_batch(queue, outgoing, 3, &sent, second), SHMQ_OK);
    CHECK(sent == 3);
    CHECK_STATUS(shmq_queue_receive_batch(queue, incoming, 16, &received, second), SHMQ_OK);
    CHECK(received == 3);
    CHECK(incoming[2].size == 5 && memcmp(incoming[2].buffer, "three", 5) == 0);

    CHECK_STATUS(shmq_queue_send(NULL, "x", 1, 0), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, sizeof buffer, NULL, NULL, 0), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_send_batch(queue, NULL, 2, &sent, 0), SHMQ_INVALID_ARGUMENT);
    shmq_queue_close(queue);
    shmq_queue_close(NULL);
}

static void test_packed_batches(shmq_client* client) {
    shmq_queue* queue = NULL;
    REQUIRE_OK(shmq_queue_open(client, "work", &queue));
    const size_t sizes[3] = {3, 0, 5};
    size_t sent = 99;
    CHECK_STATUS(shmq_queue_send_packed(queue, "onethree", sizes, 3, &sent, second), SHMQ_OK);
    CHECK(sent == 3);

    /* Back to back: "one", an empty message, "three". */
    char buffer[64];
    size_t received_sizes[8] = {0};
    uint64_t deliveries[8];
    size_t received = 99;
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, received_sizes, deliveries, 8, &received,
                                           second),
                 SHMQ_OK);
    CHECK(received == 3);
    CHECK(received_sizes[0] == 3 && received_sizes[1] == 0 && received_sizes[2] == 5);
    CHECK(memcmp(buffer, "onethree", 8) == 0);

    /* A buffer with room for 8 messages of max_message_size (64): the batch
     * is taken in one go, then packed back to back the same way. */
    char roomy[8 * 64];
    REQUIRE_OK(shmq_queue_send_packed(queue, "onethree", sizes, 3, &sent, second));
    CHECK_STATUS(shmq_queue_receive_packed(queue, roomy, sizeof roomy, received_sizes, deliveries, 8, &received,
                                           second),
                 SHMQ_OK);
    CHECK(received == 3);
    CHECK(received_sizes[0] == 3 && received_sizes[1] == 0 && received_sizes[2] == 5);
    CHECK(memcmp(roomy, "onethree", 8) == 0);

    /* What does not fit stays queued: here the second message. */
    const size_t two[2] = {5, 5};
    REQUIRE_OK(shmq_queue_send_packed(queue, "firstlater", two, 2, &sent, second));
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, 7, received_sizes, NULL, 8, &received, second), SHMQ_OK);
    CHECK(received == 1 && received_sizes[0] == 5 && memcmp(buffer, "first", 5) == 0);
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, 4, received_sizes, NULL, 8, &received, SHMQ_NO_WAIT),
                 SHMQ_BUFFER_TOO_SMALL);
    CHECK(received == 0);
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, received_sizes, NULL, 1, &received,
                                           SHMQ_NO_WAIT),
                 SHMQ_OK);
    CHECK(received == 1 && memcmp(buffer, "later", 5) == 0);

    /* Nothing there: the wait times out; a try finds it empty. */
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, received_sizes, NULL, 8, &received,
                                           second / 50),
                 SHMQ_TIMEOUT);
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, received_sizes, NULL, 8, &received,
                                           SHMQ_NO_WAIT),
                 SHMQ_EMPTY);
    CHECK(received == 0);

    /* As send_batch: a message over max_message_size sends nothing. */
    char large[70] = {0};
    const size_t too_large[2] = {1, 65};
    CHECK_STATUS(shmq_queue_send_packed(queue, large, too_large, 2, &sent, second), SHMQ_MESSAGE_TOO_LARGE);
    CHECK(sent == 0);
    CHECK_STATUS(shmq_queue_try_receive(queue, buffer, sizeof buffer, &received, NULL), SHMQ_EMPTY);

    /* The checked send refuses sizes that do not add up to the data's
     * length, or that wrap around to it, and sends nothing. */
    CHECK_STATUS(shmq_queue_send_packed_checked(queue, "onethree", 7, sizes, 3, &sent, second), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_send_packed_checked(queue, "onethree", 9, sizes, 3, &sent, second), SHMQ_INVALID_ARGUMENT);
    const size_t wrapping[2] = {SIZE_MAX, 9};
    CHECK_STATUS(shmq_queue_send_packed_checked(queue, "onethree", 8, wrapping, 2, &sent, second),
                 SHMQ_INVALID_ARGUMENT);
    CHECK(sent == 0);
    CHECK_STATUS(shmq_queue_try_receive(queue, buffer, sizeof buffer, &received, NULL), SHMQ_EMPTY);
    /* Sizes that add up: sent, and received with their total. */
    CHECK_STATUS(shmq_queue_send_packed_checked(queue, "onethree", 8, sizes, 3, &sent, second), SHMQ_OK);
    CHECK(sent == 3);
    size_t total = 99;
    CHECK_STATUS(shmq_queue_receive_packed_total(queue, roomy, sizeof roomy, received_sizes, NULL, 8, &received,
                                                 &total, second),
                 SHMQ_OK);
    CHECK(received == 3 && total == 8 && memcmp(roomy, "onethree", 8) == 0);
    CHECK_STATUS(shmq_queue_receive_packed_total(queue, roomy, sizeof roomy, received_sizes, NULL, 8, &received,
                                                 &total, SHMQ_NO_WAIT),
                 SHMQ_EMPTY);
    CHECK(received == 0 && total == 0);
    CHECK_STATUS(shmq_queue_receive_packed_total(queue, roomy, sizeof roomy, received_sizes, NULL, 8, &received,
                                                 NULL, SHMQ_NO_WAIT),
                 SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_send_packed_checked(queue, "x", 1, NULL, 1, &sent, 0), SHMQ_INVALID_ARGUMENT);

    CHECK_STATUS(shmq_queue_send_packed(queue, NULL, sizes, 3, &sent, 0), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_send_packed(queue, "x", sizes, 1, NULL, 0), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, NULL, NULL, 8, &received, 0),
                 SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_receive_packed(queue, buffer, sizeof buffer, received_sizes, NULL, 0, &received, 0),
                 SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_receive_packed(NULL, buffer, sizeof buffer, received_sizes, NULL, 8, &received, 0),
                 SHMQ_INVALID_ARGUMENT);
    shmq_queue_close(queue);
}

static void test_acknowledge(shmq_client* client) {
    shmq_queue* jobs = NULL;
    REQUIRE_OK(shmq_queue_open(client, "jobs", &jobs));
    REQUIRE_OK(shmq_queue_send(jobs, "job", 3, second));
    char buffer[64];
    size_t size = 0;
    uint64_t delivery = 0;
    REQUIRE_OK(shmq_queue_receive(jobs, buffer, sizeof buffer, &size, &delivery, second));
    /* Not acknowledged: after the 100 ms ack timeout it comes back. */
    uint64_t again = 0;
    CHECK_STATUS(shmq_queue_receive(jobs, buffer, sizeof buffer, &size, &again, 30 * second), SHMQ_OK);
    CHECK(size == 3 && memcmp(buffer, "job", 3) == 0);
    CHECK(again != delivery);
    CHECK_STATUS(shmq_queue_acknowledge(jobs, again), SHMQ_OK);
    CHECK_STATUS(shmq_queue_acknowledge(jobs, again), SHMQ_NOT_ACKNOWLEDGEABLE);
    CHECK_STATUS(shmq_queue_try_receive(jobs, buffer, sizeof buffer, &size, &delivery), SHMQ_EMPTY);

    /* A packed batch hands out a token per message. */
    const size_t sizes[2] = {1, 1};
    size_t sent = 0;
    REQUIRE_OK(shmq_queue_send_packed(jobs, "ab", sizes, 2, &sent, second));
    size_t received_sizes[2];
    uint64_t deliveries[2] = {0, 0};
    size_t received = 0;
    char roomy[2 * 64]; /* room for both at max_message_size: taken in one go */
    REQUIRE_OK(shmq_queue_receive_packed(jobs, roomy, sizeof roomy, received_sizes, deliveries, 2, &received,
                                         second));
    CHECK(received == 2 && memcmp(roomy, "ab", 2) == 0);
    CHECK(deliveries[0] != 0 && deliveries[1] != 0 && deliveries[0] != deliveries[1]);
    CHECK_STATUS(shmq_queue_acknowledge(jobs, deliveries[0]), SHMQ_OK);
    CHECK_STATUS(shmq_queue_acknowledge(jobs, deliveries[1]), SHMQ_OK);

    /* A batch acknowledgement: each delivery as shmq_queue_acknowledge would. */
    REQUIRE_OK(shmq_queue_send_packed(jobs, "cd", sizes, 2, &sent, second));
    REQUIRE_OK(shmq_queue_receive_packed(jobs, roomy, sizeof roomy, received_sizes, deliveries, 2, &received,
                                         second));
    CHECK(received == 2);
    size_t acknowledged = 99;
    CHECK_STATUS(shmq_queue_acknowledge_batch(jobs, deliveries, 2, &acknowledged), SHMQ_OK);
    CHECK(acknowledged == 2);
    CHECK_STATUS(shmq_queue_acknowledge_batch(jobs, deliveries, 2, &acknowledged), SHMQ_NOT_ACKNOWLEDGEABLE);
    CHECK(acknowledged == 0);
    CHECK_STATUS(shmq_queue_acknowledge_batch(jobs, NULL, 1, &acknowledged), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_queue_try_receive(jobs, buffer, sizeof buffer, &size, &delivery), SHMQ_EMPTY);
    shmq_queue_close(jobs);
}

static void test_topic(shmq_client* client) {
    shmq_topic* topic = NULL;
    CHECK_STATUS(shmq_topic_open(client, "missing", &topic), SHMQ_TOPIC_NOT_FOUND);
    REQUIRE_OK(shmq_topic_open(client, "prices", &topic));
    CHECK(strcmp(shmq_topic_name(topic), "prices") == 0);
    CHECK(shmq_topic_capacity(topic) == 16 && shmq_topic_max_message_size(topic) == 128);
    CHECK(shmq_topic_history(topic) == 2);

    CHECK_STATUS(shmq_topic_publish(topic, "a", 1, second), SHMQ_OK);
    CHECK_STATUS(shmq_topic_publish(topic, "b", 1, second), SHMQ_OK);
    CHECK_STATUS(shmq_topic_publish(topic, "c", 1, second), SHMQ_OK);

    shmq_subscription* subscription = NULL;
    REQUIRE_OK(shmq_subscribe(client, "prices", 2, second, &subscription));
    CHECK(strcmp(shmq_subscription_topic(subscription), "prices") == 0);
    CHECK(shmq_subscription_max_message_size(subscription) == 128);
    char buffer[128];
    size_t size = 0;
    /* The history asked for: the latest two. */
    CHECK_STATUS(shmq_subscription_receive(subscription, buffer, sizeof buffer, &size, second), SHMQ_OK);
    CHECK(size == 1 && buffer[0] == 'b');
    CHECK_STATUS(shmq_subscription_receive(subscription, buffer, sizeof buffer, &size, second), SHMQ_OK);
    CHECK(size == 1 && buffer[0] == 'c');
    CHECK_STATUS(shmq_subscription_receive(subscription, buffer, sizeof buffer, &size, SHMQ_NO_WAIT), SHMQ_EMPTY);

    shmq_loan* loan = NULL;
    CHECK_STATUS(shmq_topic_loan(topic, 129, &loan, second), SHMQ_MESSAGE_TOO_LARGE);
    REQUIRE_OK(shmq_topic_loan(topic, 5, &loan, second));
    CHECK(shmq_loan_size(loan) == 5 && shmq_loan_capacity(loan) == 128);
    memcpy(shmq_loan_data(loan), "loaned", 6);
    CHECK_STATUS(shmq_loan_resize(loan, 6), SHMQ_OK);
    CHECK_STATUS(shmq_loan_resize(loan, 129), SHMQ_MESSAGE_TOO_LARGE);
    CHECK_STATUS(shmq_topic_publish_loan(topic, loan), SHMQ_OK);
    /* A cancelled loan is skipped by subscribers. */
    REQUIRE_OK(shmq_topic_loan(topic, 3, &loan, second));
    shmq_loan_cancel(loan);
    CHECK_STATUS(shmq_topic_publish(topic, "after", 5, second), SHMQ_OK);

    shmq_view* view = NULL;
    REQUIRE_OK(shmq_subscription_read(subscription, &view, second));
    CHECK(shmq_view_size(view) == 6 && memcmp(shmq_view_data(view), "loaned", 6) == 0);
    shmq_view* second_view = NULL;
    REQUIRE_OK(shmq_subscription_read(subscription, &second_view, second));
    CHECK(shmq_view_size(second_view) == 5 && memcmp(shmq_view_data(second_view), "after", 5) == 0);
    shmq_view_release(view);
    shmq_view_release(second_view);
    shmq_view_release(NULL);
    CHECK(shmq_subscription_received(subscription) == 4);
    CHECK(shmq_subscription_lost(subscription) == 0);

    /* Views are limited per subscription. */
    shmq_view* views[SHMQ_MAX_VIEWS];
    for (int i = 0; i < SHMQ_MAX_VIEWS + 1; ++i) CHECK_STATUS(shmq_topic_publish(topic, "v", 1, second), SHMQ_OK);
    for (int i = 0; i < SHMQ_MAX_VIEWS; ++i) REQUIRE_OK(shmq_subscription_read(subscription, &views[i], second));
    CHECK_STATUS(shmq_subscription_read(subscription, &view, second), SHMQ_TOO_MANY_VIEWS);
    for (int i = 0; i < SHMQ_MAX_VIEWS; ++i) shmq_view_release(views[i]);
    CHECK_STATUS(shmq_subscription_read(subscription, &view, second), SHMQ_OK);
    shmq_view_release(view);

    CHECK_STATUS(shmq_subscribe(client, "missing", 0, second, &subscription), SHMQ_TOPIC_NOT_FOUND);
    shmq_unsubscribe(subscription);
    shmq_topic_close(topic);
}

static void test_stats(shmq_client* client) {
    shmq_stats* stats = NULL;
    REQUIRE_OK(shmq_stats_take(client, &stats));
    shmq_broker_stats broker_stats;
    REQUIRE_OK(shmq_stats_broker(stats, &broker_stats));
    CHECK(strcmp(broker_stats.broker, broker_name) == 0);
    CHECK(broker_stats.broker_pid == broker && broker_stats.broker_alive);
    CHECK(broker_stats.queues == 3 && broker_stats.topics == 1 && broker_stats.clients >= 1);
    int found_work = 0;
    for (size_t i = 0; i < broker_stats.queues; ++i) {
        shmq_queue_stats queue;
        REQUIRE_OK(shmq_stats_queue(stats, i, &queue));
        if (strcmp(queue.name, "work") != 0) continue;
        found_work = 1;
        /* 12 by test_queue, 11 by test_packed_batches. */
        CHECK(queue.enqueued == 23 && queue.dequeued == 23 && queue.depth == 0);
        CHECK(strcmp(queue.delivery, "at_most_once") == 0);
        /* In service, and open to this process for reading and writing. */
        CHECK(!queue.quarantined && strcmp(queue.quarantine_reason, "") == 0 && !queue.read_only);
    }
    CHECK(found_work);
    shmq_topic_stats topic;
    REQUIRE_OK(shmq_stats_topic(stats, 0, &topic));
    CHECK(strcmp(topic.name, "prices") == 0 && topic.published >= 10);
    CHECK(!topic.quarantined && strcmp(topic.quarantine_reason, "") == 0 && !topic.read_only);
    shmq_client_info info;
    REQUIRE_OK(shmq_stats_client(stats, 0, &info));
    CHECK(info.pid > 0);
    CHECK_STATUS(shmq_stats_queue(stats, 3, &(shmq_queue_stats){0}), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_stats_queue_sides(stats, 3, &(shmq_queue_sides){0}), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_stats_queue_sides(NULL, 0, &(shmq_queue_sides){0}), SHMQ_INVALID_ARGUMENT);
    CHECK_STATUS(shmq_stats_subscriber(stats, 0, 99, &(shmq_subscriber_stats){0}), SHMQ_INVALID_ARGUMENT);
    shmq_stats_free(stats);
}

/* The sides of queue "ticks" (producers: single, consumers: single) as
 * shmq_stats_queue_sides() reports them, by name. */
static shmq_queue_sides sides_of_ticks(shmq_client* client) {
    shmq_stats* stats = NULL;
    shmq_queue_sides sides = {0};
    REQUIRE_OK(shmq_stats_take(client, &stats));
    shmq_broker_stats broker_stats;
    REQUIRE_OK(shmq_stats_broker(stats, &broker_stats));
    int found = 0;
    for (size_t i = 0; i < broker_stats.queues && !found; ++i) {
        shmq_queue_stats queue;
        REQUIRE_OK(shmq_stats_queue(stats, i, &queue));
        if (strcmp(queue.name, "ticks") != 0) continue;
        found = 1;
        REQUIRE_OK(shmq_stats_queue_sides(stats, i, &sides));
        /* Copied out: the strings die with the snapshot. */
        CHECK(strcmp(sides.producers, "single") == 0 && strcmp(sides.consumers, "single") == 0);
        sides.producers = sides.consumers = "";
    }
    CHECK(found);
    shmq_stats_free(stats);
    return sides;
}

/* A queue with one producer and one consumer: the first client to send
 * (receive) holds that side, another gets SHMQ_EXCLUSIVE_HELD with nothing
 * sent or taken, the stats name the holder, and its detach hands the side
 * on. A queue open to many on both sides reports "many" and no holder. */
static void test_single_sides(shmq_client* client) {
    shmq_queue_sides sides = sides_of_ticks(client);
    CHECK(sides.producer_lease_pid == 0 && sides.consumer_lease_pid == 0);
    shmq_queue* queue = NULL;
    REQUIRE_OK(shmq_queue_open(client, "ticks", &queue));
    REQUIRE_OK(shmq_queue_send(queue, "t1", 2, SHMQ_WAIT_FOREVER));
    sides = sides_of_ticks(client);
    CHECK(sides.producer_lease_pid == getpid() && sides.consumer_lease_pid == 0);

    shmq_client* other = attach_when_ready();
    shmq_queue* theirs = NULL;
    REQUIRE_OK(shmq_queue_open(other, "ticks", &theirs));
    char buffer[16];
    size_t size = 0;
    CHECK_STATUS(shmq_queue_try_send(theirs, "no", 2), SHMQ_EXCLUSIVE_HELD);
    /* The other client takes the consumer side: now this one is refused it. */
    CHECK_STATUS(shmq_queue_receive(theirs, buffer, sizeof buffer, &size, NULL, SHMQ_WAIT_FOREVER), SHMQ_OK);
    CHECK(size == 2 && memcmp(buffer, "t1", 2) == 0);
    CHECK_STATUS(shmq_queue_try_receive(queue, buffer, sizeof buffer, &size, NULL), SHMQ_EXCLUSIVE_HELD);
    sides = sides_of_ticks(client);
    CHECK(sides.producer_lease_pid == getpid() && sides.consumer_lease_pid == getpid());
    shmq_queue_close(theirs);
    shmq_detach(other);
    sides = sides_of_ticks(client);
    CHECK(sides.producer_lease_pid == getpid() && sides.consumer_lease_pid == 0);
    CHECK_STATUS(shmq_queue_try_receive(queue, buffer, sizeof buffer, &size, NULL), SHMQ_EMPTY);

    shmq_stats* stats = NULL;
    REQUIRE_OK(shmq_stats_take(client, &stats));
    shmq_broker_stats broker_stats;
    REQUIRE_OK(shmq_stats_broker(stats, &broker_stats));
    int found_work = 0;
    for (size_t i = 0; i < broker_stats.queues; ++i) {
        shmq_queue_stats work;
        REQUIRE_OK(shmq_stats_queue(stats, i, &work));
        if (strcmp(work.name, "work") != 0) continue;
        found_work = 1;
        shmq_queue_sides shared;
        REQUIRE_OK(shmq_stats_queue_sides(stats, i, &shared));
        CHECK(strcmp(shared.producers, "many") == 0 && strcmp(shared.consumers, "many") == 0);
        CHECK(shared.producer_lease_pid == 0 && shared.consumer_lease_pid == 0);
    }
    CHECK(found_work);
    shmq_stats_free(stats);
    shmq_queue_close(queue);
}

/* A reload (SIGHUP) that removes queue "work": a handle opened before gets
 * SHMQ_QUEUE_REMOVED from a send, receives what was left, then
 * SHMQ_QUEUE_REMOVED; opening the name again says so too. */
static void test_removal(shmq_client* client) {
    shmq_queue* queue = NULL;
    REQUIRE_OK(shmq_queue_open(client, "work", &queue));
    char buffer[64];
    size_t size = 0;
    while (shmq_queue_try_receive(queue, buffer, sizeof buffer, &size, NULL) == SHMQ_OK) {
    }
    REQUIRE_OK(shmq_queue_send(queue, "left", 4, SHMQ_WAIT_FOREVER));
    write_config(0);
    kill(broker, SIGHUP);
    /* The reload is in once the name opens as removed. */
    shmq_status opened = SHMQ_OK;
    for (int attempt = 0; attempt < 600 && opened != SHMQ_QUEUE_REMOVED; ++attempt) {
        const struct timespec pause = {0, 50000000L};
        nanosleep(&pause, NULL);
        shmq_queue* probe = NULL;
        opened = shmq_queue_open(client, "work", &probe);
        if (opened == SHMQ_OK) shmq_queue_close(probe);
    }
    CHECK_STATUS(opened, SHMQ_QUEUE_REMOVED);
    CHECK_STATUS(shmq_queue_send(queue, "late", 4, SHMQ_WAIT_FOREVER), SHMQ_QUEUE_REMOVED);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, sizeof buffer, &size, NULL, SHMQ_WAIT_FOREVER), SHMQ_OK);
    CHECK(size == 4 && memcmp(buffer, "left", 4) == 0);
    CHECK_STATUS(shmq_queue_receive(queue, buffer, sizeof buffer, &size, NULL, SHMQ_WAIT_FOREVER), SHMQ_QUEUE_REMOVED);
    shmq_queue_close(queue);
    CHECK_STATUS(shmq_queue_open(client, "work", &queue), SHMQ_QUEUE_REMOVED);
}

int main(void) {
    test_version_and_statuses();
    test_attach_errors();
    start_broker();
    shmq_client* client = attach_when_ready();
    CHECK(strcmp(shmq_client_broker_name(client), broker_name) == 0);
    test_queue(client);
    test_packed_batches(client);
    test_acknowledge(client);
    test_topic(client);
    test_stats(client);
    test_single_sides(client);
    test_removal(client);
    shmq_detach(client);
    shmq_detach(NULL);
    stop_broker();
    if (failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all C API checks passed\n");
    return 0;
}
