#include "bridge/pub_ack.hpp"

#include <limits>

namespace shmq::bridge {
namespace {

// A reader of the JSON subset a PubAck uses (RFC 8259 values; the members a
// PubAck does not define are read and ignored, so that a newer server's
// additions do not turn acks into failures). Every function returns false
// on the first byte that does not fit.
class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    bool parse(PubAck& ack) {
        bool stream = false, sequence = false, duplicate = false, error = false;
        std::string_view name;
        const bool read = object([&](std::string_view member) {
            if (member == "stream") return !stream && (stream = true, string(name)) && !name.empty();
            if (member == "seq") return !sequence && (sequence = true, unsigned_integer(ack.sequence));
            if (member == "duplicate") return literal_bool(duplicate);
            if (member == "error") return !error && (error = true, error_object(ack));
            return value(0);
        });
        skip_space();
        if (!read || at_ != text_.size()) return fail(ack, "not a well-formed PubAck");
        if (error) {
            ack.kind = PubAck::Kind::refused;
            return true;
        }
        if (!stream || !sequence || ack.sequence == 0) return fail(ack, "no stream or sequence");
        ack.kind = duplicate ? PubAck::Kind::duplicate : PubAck::Kind::stored;
        return true;
    }

private:
    static constexpr int max_depth = 16;

    static bool fail(PubAck& ack, const char* why) {
        ack = PubAck{};
        ack.description = why;
        return false;
    }

    void skip_space() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
            ++at_;
        }
    }
    bool take(char c) {
        skip_space();
        if (at_ >= text_.size() || text_[at_] != c) return false;
        ++at_;
        return true;
    }
    bool word(std::string_view w) {
        skip_space();
        if (text_.substr(at_, w.size()) != w) return false;
        at_ += w.size();
        return true;
    }

    // {"key": value, ...}, `member` reading each value after its key. A
    // key is compared as written: one spelled with escapes is unknown, and
    // a PubAck without its plainly named members is malformed (safe side).
    template <typename Member>
    bool object(Member&& member) {
        if (!take('{')) return false;
        if (take('}')) return true;
        std::string_view key;
        do {
            if (!string(key) || !take(':') || !member(key)) return false;
        } while (take(','));
        return take('}');
    }

    bool error_object(PubAck& ack) {
        return object([&](std::string_view member) {
            std::string_view description;
            if (member == "code") return integer(ack.code);
            if (member == "err_code") return integer(ack.err_code);
            if (member == "description") return string(description) && (decode(description, ack.description), true);
            return value(1);
        });
    }

    // A string, checked, as written between its quotes (escapes included).
    bool string(std::string_view& raw) {
        if (!take('"')) return false;
        const std::size_t begin = at_;
        while (at_ < text_.size()) {
            const char c = text_[at_++];
            if (c == '"') {
                raw = text_.substr(begin, at_ - 1 - begin);
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20) return false;
            if (c != '\\') continue;
            if (at_ >= text_.size()) return false;
            switch (text_[at_++]) {
                case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': break;
                case 'u':
                    for (int i = 0; i < 4; ++i, ++at_) {
                        if (at_ >= text_.size() || hex(text_[at_]) < 0) return false;
                    }
                    break;
                default: return false;
            }
        }
        return false;
    }

    static int hex(char h) {
        return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
    }

    // A checked string's text; \u escapes outside ASCII become '?': only a
    // log line shows it.
    static void decode(std::string_view raw, std::string& out) {
        out.clear();
        for (std::size_t i = 0; i < raw.size(); ++i) {
            char c = raw[i];
            if (c == '\\') {
                switch (const char e = raw[++i]) {
                    case 'b': c = '\b'; break;
                    case 'f': c = '\f'; break;
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'u': {
                        unsigned code = 0;
                        for (int d = 0; d < 4; ++d) code = code * 16 + static_cast<unsigned>(hex(raw[++i]));
                        c = code < 0x80 ? static_cast<char>(code) : '?';
                        break;
                    }
                    default: c = e;  // '"', '\\', '/'
                }
            }
            out.push_back(c);
        }
    }

    // Digits without sign, fraction or exponent, within the type's range.
    template <typename Number>
    bool digits(Number& out) {
        skip_space();
        const std::size_t begin = at_;
        Number n = 0;
        while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
            const auto digit = static_cast<Number>(text_[at_++] - '0');
            if (n > (std::numeric_limits<Number>::max() - digit) / 10) return false;
            n = static_cast<Number>(n * 10 + digit);
        }
        if (at_ == begin || (text_[begin] == '0' && at_ - begin > 1)) return false;
        if (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E')) return false;
        out = n;
        return true;
    }
    bool unsigned_integer(std::uint64_t& out) { return digits(out); }
    bool integer(int& out) { return digits(out); }

    bool literal_bool(bool& out) {
        if (word("true")) return out = true, true;
        if (word("false")) return out = false, true;
        return false;
    }

    // Any JSON value, read and dropped.
    bool value(int depth) {
        if (depth > max_depth) return false;
        skip_space();
        if (at_ >= text_.size()) return false;
        switch (text_[at_]) {
            case '"': {
                std::string_view ignored;
                return string(ignored);
            }
            case '{': return object([&](std::string_view) { return value(depth + 1); });
            case '[':
                ++at_;
                if (take(']')) return true;
                do {
                    if (!value(depth + 1)) return false;
                } while (take(','));
                return take(']');
            case 't': return word("true");
            case 'f': return word("false");
            case 'n': return word("null");
            default: return number();
        }
    }
    bool number() {
        auto run = [&] {
            const std::size_t from = at_;
            while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
            return at_ - from;
        };
        if (at_ < text_.size() && text_[at_] == '-') ++at_;
        const std::size_t integral = at_;
        const std::size_t length = run();
        if (length == 0 || (text_[integral] == '0' && length > 1)) return false;
        if (at_ < text_.size() && text_[at_] == '.' && (++at_, run() == 0)) return false;
        if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
            ++at_;
            if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
            if (run() == 0) return false;
        }
        return true;
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

}  // namespace

PubAck parse_pub_ack(std::string_view text) {
    PubAck ack;
    if (text.empty()) {
        ack.description = "an empty answer (no stream listens on the subject?)";
        return ack;
    }
    Reader(text).parse(ack);
    return ack;
}

std::string failure_text(const PubAck& ack) {
    switch (ack.kind) {
        case PubAck::Kind::stored:
        case PubAck::Kind::duplicate: return "stored";
        case PubAck::Kind::refused:
            return "JetStream refused the publish: " + ack.description + " (code " + std::to_string(ack.code) +
                   ", JetStream error " + std::to_string(ack.err_code) + ")";
        case PubAck::Kind::malformed: break;
    }
    return "an unreadable PubAck: " + ack.description;
}

}  // namespace shmq::bridge
