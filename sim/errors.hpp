// Errors in user input (scenarios, tables, command-line values): they name the file,
// line, column and key so that a planner can find the mistake. Exit code 2.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace regio {

class InputError : public std::runtime_error {
 public:
  InputError(std::string file, int line, int column, std::string key, const std::string& message);
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_ = 0;
  std::string key_;
};

/// The valid name closest to `word` by edit distance, or "" if none is close.
std::string nearest_name(const std::string& word, const std::vector<std::string>& names);

}  // namespace regio
