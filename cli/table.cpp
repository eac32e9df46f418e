#include "cli/table.hpp"

#include <algorithm>

namespace shmq::cli {

namespace {

constexpr const char* column_gap = "  ";

}  // namespace

std::vector<std::size_t> Table::column_widths() const {
    std::vector<std::size_t> widths;
    for (const auto& column : columns_) widths.push_back(column.header.size());
    for (const auto& row : rows_) {
        for (std::size_t index = 0; index < row.size() && index < widths.size(); ++index) {
            widths[index] = std::max(widths[index], row[index].size());
        }
    }
    return widths;
}

void Table::print_row(std::ostream& out, const std::vector<std::string>& cells,
                      const std::vector<std::size_t>& widths) const {
    std::string line;
    for (std::size_t index = 0; index < columns_.size(); ++index) {
        const std::string cell = index < cells.size() ? cells[index] : std::string();
        const std::string padding(widths[index] - cell.size(), ' ');
        if (index > 0) line += column_gap;
        line += columns_[index].align == Align::right ? padding + cell : cell + padding;
    }
    // Left-aligned last columns would leave trailing blanks.
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
}

void Table::print(std::ostream& out) const {
    const auto widths = column_widths();
    std::vector<std::string> headers;
    for (const auto& column : columns_) headers.push_back(column.header);
    print_row(out, headers, widths);
    for (const auto& row : rows_) print_row(out, row, widths);
}

}  // namespace shmq::cli
