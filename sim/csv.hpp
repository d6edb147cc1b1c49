// A small, strict CSV reader for scenario tables: a header row, '#' comment lines,
// quoted fields; every cell remembers its line so errors can point at it.
#pragma once
#include <string>
#include <vector>

namespace regio {

class CsvTable {
 public:
  /// Parses `text` read from `file`; throws InputError on ragged rows or bad quoting.
  CsvTable(const std::string& text, std::string file);

  const std::string& file() const { return file_; }
  size_t rows() const { return cells_.size(); }
  int line(size_t row) const { return lines_[row]; }
  const std::vector<std::string>& header() const { return header_; }

  /// Throws InputError naming the file if a required column is missing or an
  /// unknown column is present (with the nearest valid name).
  void require_columns(const std::vector<std::string>& required,
                       const std::vector<std::string>& optional = {}) const;
  bool has_column(const std::string& name) const;

  const std::string& text(size_t row, const std::string& column) const;
  double number(size_t row, const std::string& column, double min, double max) const;
  long long integer(size_t row, const std::string& column, long long min, long long max) const;

 private:
  int column_index(const std::string& name) const;
  std::string file_;
  std::vector<std::string> header_;
  int header_line_ = 1;
  std::vector<std::vector<std::string>> cells_;
  std::vector<int> lines_;
};

/// Parses a finite number; false if `s` is not entirely a number or is NaN/inf.
bool parse_finite(const std::string& s, double& out);

}  // namespace regio
