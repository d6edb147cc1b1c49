// CSV export of Results: one long-format file per dataset plus metadata.csv. Fields are
// quoted per RFC 4180 (only when needed); lines end with "\n".
#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "output/hdf5_file.hpp"
#include "output/validate.hpp"

namespace regio::output {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMetadataFile = "metadata.csv";
// Bytes buffered before they are handed to the file.
constexpr std::size_t kFlushAbove = 1 << 20;

/// A field as RFC 4180 wants it: quoted, with quotes doubled, if it holds a comma, quote or
/// line break; as is otherwise.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

/// File name for a dataset: "/demography/population" -> "demography__population.csv".
std::string csv_file_name(const std::string& path) {
  std::string name;
  for (std::size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') {
      name += "__";
    } else {
      name += path[i];
    }
  }
  return name + ".csv";
}

/// Writes text to a file, checking every step.
class CsvFile {
 public:
  explicit CsvFile(fs::path path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_) fail("cannot create");
  }

  fmt::memory_buffer& buffer() { return buffer_; }

  void maybe_flush() {
    if (buffer_.size() > kFlushAbove) flush();
  }

  void close() {
    flush();
    if (std::fclose(file_.release()) != 0) fail("cannot finish");
  }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  void flush() {
    if (buffer_.size() != 0 &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get()) != buffer_.size()) {
      fail("cannot write");
    }
    buffer_.clear();
  }

  [[noreturn]] void fail(std::string_view what) const {
    throw OutputError(fmt::format("{} '{}': {}", what, path_.string(), std::strerror(errno)));
  }

  fs::path path_;
  std::unique_ptr<std::FILE, Closer> file_;
  fmt::memory_buffer buffer_;
};

void write_metadata_csv(const RunMetadata& m, const fs::path& file_path) {
  CsvFile file(file_path);
  fmt::appender out(file.buffer());
  auto row = [&](std::string_view key, std::string_view value) {
    fmt::format_to(out, "{},{}\n", csv_field(key), csv_field(value));
  };
  row("key", "value");
  row("format", "regio-results");
  row("format_version", "1");
  row("program_version", m.program_version);
  row("git_commit", m.git_commit);
  row("seed", fmt::format("{}", m.seed));
  row("replication", fmt::format("{}", m.replication));
  row("scenario_name", m.scenario_name);
  row("scenario_hash", m.scenario_hash);
  row("start_time", m.start_time);
  row("wall_seconds", fmt::format("{}", m.wall_seconds));
  row("threads", fmt::format("{}", m.threads));
  row("scale", fmt::format("{}", m.scale));
  row("first_month", m.first_month);
  row("last_month", m.last_month);
  row("scenario", m.scenario_text);
  file.close();
}

void write_dataset_csv(const Results& results, const Dataset& d, const fs::path& file_path) {
  // Labels are quoted once up front; the rows then only concatenate.
  std::vector<std::vector<std::string>> labels;
  std::vector<std::size_t> extent;
  CsvFile file(file_path);
  fmt::appender out(file.buffer());
  for (const std::string& dim : d.dims) {
    const Axis* axis = results.axis(dim);
    std::vector<std::string>& quoted = labels.emplace_back();
    for (const std::string& label : axis->labels) quoted.push_back(csv_field(label));
    extent.push_back(axis->labels.size());
    fmt::format_to(out, "{},", csv_field(dim));
  }
  fmt::format_to(out, "value\n");

  std::vector<std::size_t> index(d.dims.size(), 0);  // row-major position of the next value
  for (const double value : d.values) {
    for (std::size_t k = 0; k < index.size(); ++k) {
      const std::string& label = labels[k][index[k]];
      file.buffer().append(label.data(), label.data() + label.size());
      file.buffer().push_back(',');
    }
    if (d.integer) {
      fmt::format_to(out, "{}\n", static_cast<std::int64_t>(value));
    } else {
      fmt::format_to(out, "{}\n", value);  // shortest text that reads back to the same double
    }
    for (std::size_t k = index.size(); k-- > 0;) {
      if (++index[k] < extent[k]) break;
      index[k] = 0;
    }
    file.maybe_flush();
  }
  file.close();
}

}  // namespace

int export_csv(const Results& results, const fs::path& dir) {
  const std::string where = fmt::format("cannot export CSV to '{}'", dir.string());
  if (const std::string problem = detail::validate(results); !problem.empty()) {
    throw OutputError(fmt::format("{}: {}", where, problem));
  }
  // Distinct paths can map to one file name ("/a/b" and "/a__b"); refuse rather than overwrite.
  std::map<std::string, std::string> owner = {{kMetadataFile, "the run metadata"}};
  for (const Dataset& d : results.datasets) {
    const auto [it, inserted] = owner.emplace(csv_file_name(d.path), d.path);
    if (!inserted) {
      throw OutputError(
          fmt::format("{}: dataset '{}' and {} would both be written to '{}'", where, d.path,
                      it->second.front() == '/' ? "'" + it->second + "'" : it->second, it->first));
    }
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw OutputError(fmt::format("{}: cannot create the directory: {}", where, ec.message()));
  if (!fs::is_directory(dir, ec)) throw OutputError(where + ": it is not a directory");

  try {
    write_metadata_csv(results.meta, dir / kMetadataFile);
    for (const Dataset& d : results.datasets) {
      write_dataset_csv(results, d, dir / csv_file_name(d.path));
    }
  } catch (const OutputError& e) {
    throw OutputError(fmt::format("{}: {}", where, e.what()));
  }
  return static_cast<int>(results.datasets.size());
}

}  // namespace regio::output
