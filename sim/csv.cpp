#include "sim/csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sim/errors.hpp"

namespace regio {

bool parse_finite(const std::string& raw, double& out) {
  size_t b = raw.find_first_not_of(" \t");
  size_t e = raw.find_last_not_of(" \t\r");
  if (b == std::string::npos) return false;
  const char* first = raw.data() + b;
  const char* last = raw.data() + e + 1;
  if (*first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && std::isfinite(out);
}

CsvTable::CsvTable(const std::string& text, std::string file) : file_(std::move(file)) {
  size_t pos = 0;
  int line = 1;
  bool have_header = false;
  while (pos < text.size()) {
    const int row_line = line;
    // Skip blank and comment lines.
    if (text[pos] == '#' || text[pos] == '\n' || text[pos] == '\r') {
      size_t nl = text.find('\n', pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      ++line;
      continue;
    }
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (; pos < text.size(); ++pos) {
      char c = text[pos];
      if (quoted) {
        if (c == '"' && pos + 1 < text.size() && text[pos + 1] == '"') {
          fields.back() += '"';
          ++pos;
        } else if (c == '"') {
          quoted = false;
        } else {
          if (c == '\n') ++line;
          fields.back() += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.emplace_back();
      } else if (c == '\n') {
        ++pos;
        break;
      } else if (c != '\r') {
        fields.back() += c;
      }
    }
    ++line;
    if (quoted) throw InputError(file_, row_line, 0, "", "unterminated quoted field");
    for (auto& f : fields) {
      size_t b = f.find_first_not_of(" \t");
      size_t e = f.find_last_not_of(" \t");
      f = b == std::string::npos ? std::string{} : f.substr(b, e - b + 1);
    }
    if (!have_header) {
      header_ = std::move(fields);
      header_line_ = row_line;
      have_header = true;
      continue;
    }
    if (fields.size() != header_.size())
      throw InputError(file_, row_line, 0, "",
                       fmt::format("row has {} fields but the header has {} ({})", fields.size(),
                                   header_.size(), fmt::join(header_, ",")));
    cells_.push_back(std::move(fields));
    lines_.push_back(row_line);
  }
  if (!have_header) throw InputError(file_, 1, 0, "", "empty table: a header row is required");
}

bool CsvTable::has_column(const std::string& name) const {
  return column_index(name) >= 0;
}

int CsvTable::column_index(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return static_cast<int>(i);
  return -1;
}

void CsvTable::require_columns(const std::vector<std::string>& required,
                               const std::vector<std::string>& optional) const {
  std::vector<std::string> known = required;
  known.insert(known.end(), optional.begin(), optional.end());
  for (const auto& h : header_) {
    if (std::find(known.begin(), known.end(), h) != known.end()) continue;
    std::string hint = nearest_name(h, known);
    throw InputError(
        file_, header_line_, 0, h,
        hint.empty() ? "unknown column" : fmt::format("unknown column; did you mean '{}'?", hint));
  }
  for (const auto& r : required)
    if (!has_column(r)) throw InputError(file_, header_line_, 0, r, "missing required column");
}

const std::string& CsvTable::text(size_t row, const std::string& column) const {
  int c = column_index(column);
  if (c < 0) throw InputError(file_, header_line_, 0, column, "missing required column");
  return cells_[row][static_cast<size_t>(c)];
}

double CsvTable::number(size_t row, const std::string& column, double min, double max) const {
  const std::string& s = text(row, column);
  double v = 0;
  if (!parse_finite(s, v))
    throw InputError(file_, lines_[row], 0, column, fmt::format("'{}' is not a finite number", s));
  if (v < min || v > max)
    throw InputError(file_, lines_[row], 0, column,
                     fmt::format("{} is outside the valid range [{}, {}]", s, min, max));
  return v;
}

long long CsvTable::integer(size_t row, const std::string& column, long long min,
                            long long max) const {
  double v = number(row, column, static_cast<double>(min), static_cast<double>(max));
  if (v != std::floor(v))
    throw InputError(file_, lines_[row], 0, column,
                     fmt::format("'{}' must be a whole number", text(row, column)));
  return static_cast<long long>(v);
}

}  // namespace regio
