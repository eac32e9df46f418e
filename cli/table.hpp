// A plain-text table for terminals: a header row, then one row per item,
// each column padded to its widest cell.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace shmq::cli {

class Table {
public:
    enum class Align { left, right };  // right for numbers, so digits line up
    struct Column {
        std::string header;
        Align align;
    };

    explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

    // `cells` holds one string per column.
    void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
    void print(std::ostream& out) const;

private:
    std::vector<std::size_t> column_widths() const;
    void print_row(std::ostream& out, const std::vector<std::string>& cells,
                   const std::vector<std::size_t>& widths) const;

    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

// The QUARANTINED cell of a queue or topic: "no", or "yes (REASON)".
inline std::string quarantine_cell(bool quarantined, const std::string& reason) {
    return quarantined ? "yes (" + reason + ")" : "no";
}

// The REMOVED column appears only once a reload removed a queue or topic,
// so that the tables of a broker that never had one stay as they were.
template <typename Stats>
bool any_removed(const std::vector<Stats>& all) {
    for (const auto& one : all) {
        if (one.removed) return true;
    }
    return false;
}

inline std::string removed_cell(bool removed) { return removed ? "yes" : "no"; }

}  // namespace shmq::cli
