// HDF5 files of Regio runs, through the HDF5 C API and the high-level dimension-scale API.
//
// Layout of a file:
//   /                 root attributes: format = "regio-results", format_version = 1 and the
//                     run metadata (program_version, git_commit, seed, ..., last_month)
//   /axes/<name>      1-D UTF-8 string dataset of labels, an HDF5 dimension scale
//                     (attribute description)
//   /<group>/<name>   int64 or float64 dataset; each dimension has its axis attached as a
//                     dimension scale and labelled with the axis name; attributes dims
//                     ("year,zone"), units, description
// Groups track link creation order, so reading returns axes and datasets in the order they
// were written (datasets depth-first by group).
//
// Writing builds the file in memory, writes it to a temporary file next to the target,
// syncs it and renames it over the target, so readers see the old file or the new one only.
#include "output/hdf5_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "output/validate.hpp"

namespace regio::output {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "regio-results";
constexpr std::int64_t kFormatVersion = 1;
// Datasets with more elements than this are chunked and compressed.
constexpr std::size_t kCompressAbove = 4096;
// Elements per chunk of a compressed dataset (512 KiB of float64).
constexpr hsize_t kChunkElements = 65536;
constexpr unsigned kDeflateLevel = 4;
// Deepest group nesting read_hdf5 follows (hard links can make a group contain itself).
constexpr int kMaxGroupDepth = 64;

/// An HDF5 failure inside this file; the public functions turn it into an OutputError that
/// names the file.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- HDF5 error handling ---------------------------------------------------------------

/// Serialises this module's use of HDF5 and silences HDF5's automatic error printing while
/// it runs (failures become exceptions instead); the previous handler is restored after.
class Session {
 public:
  Session() : lock_(mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &old_func_, &old_data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Session() { H5Eset_auto2(H5E_DEFAULT, old_func_, old_data_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  std::lock_guard<std::mutex> lock_;
  H5E_auto2_t old_func_ = nullptr;
  void* old_data_ = nullptr;
};

herr_t collect_error(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* messages = static_cast<std::vector<std::string>*>(data);
  if (err->desc != nullptr && err->desc[0] != '\0') messages->emplace_back(err->desc);
  return 0;
}

/// `what` followed by the innermost message of HDF5's error stack, which is then cleared.
[[noreturn]] void fail(std::string_view what) {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &messages);
  H5Eclear2(H5E_DEFAULT);
  if (messages.empty()) throw Failure(std::string(what));
  throw Failure(fmt::format("{} (HDF5: {})", what, messages.front()));
}

/// Returns `result` (an id, herr_t or htri_t) if it is not negative, else throws.
template <typename T>
T check(T result, std::string_view what) {
  if (result < 0) fail(what);
  return result;
}

/// Owns an HDF5 id and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, std::string_view what) : id_(check(id, what)), close_(closer) {}
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  operator hid_t() const { return id_; }  // NOLINT: ids are passed straight to the C API

  /// Closes now and reports failure (for files, whose close flushes the data).
  void close(std::string_view what) {
    const hid_t id = std::exchange(id_, H5I_INVALID_HID);
    check(close_(id), what);
  }

 private:
  void reset() {
    if (id_ >= 0) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// ---- small HDF5 helpers ----------------------------------------------------------------

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  check(H5Tset_size(type, H5T_VARIABLE), "cannot create a string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "cannot create a string type");
  return type;
}

Handle scalar_space() {
  return {H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace"};
}

Handle simple_space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return scalar_space();
  return {H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
          "cannot create a dataspace"};
}

/// Property list for groups that remember the order in which their links were created.
Handle ordered_group_plist() {
  Handle plist(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "cannot create a property list");
  check(H5Pset_link_creation_order(plist, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "cannot set link creation order");
  return plist;
}

void write_string_attribute(hid_t obj, const char* name, const std::string& value) {
  const std::string what = fmt::format("cannot write attribute '{}'", name);
  const Handle type = utf8_string_type();
  const Handle space = scalar_space();
  const Handle attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, what);
  const char* data = value.c_str();
  check(H5Awrite(attr, type, &data), what);
}

template <typename T>
void write_number_attribute(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value) {
  const std::string what = fmt::format("cannot write attribute '{}'", name);
  const Handle space = scalar_space();
  const Handle attr(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                    what);
  check(H5Awrite(attr, mem_type, &value), what);
}

/// Reads all the strings of a string attribute (`is_attribute`) or dataset, fixed- or
/// variable-length.
std::vector<std::string> read_strings(hid_t obj, bool is_attribute, const std::string& what) {
  const Handle file_type(is_attribute ? H5Aget_type(obj) : H5Dget_type(obj), H5Tclose, what);
  if (H5Tget_class(file_type) != H5T_STRING) throw Failure(what + ": not a string");
  const Handle space(is_attribute ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose, what);
  const auto n = static_cast<std::size_t>(check(H5Sget_simple_extent_npoints(space), what));
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  auto read = [&](hid_t mem_type, void* buf) {
    check(is_attribute ? H5Aread(obj, mem_type, buf)
                       : H5Dread(obj, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf),
          what);
  };
  if (check(H5Tis_variable_str(file_type), what) > 0) {
    Handle mem_type(H5Tcopy(H5T_C_S1), H5Tclose, what);
    check(H5Tset_size(mem_type, H5T_VARIABLE), what);
    check(H5Tset_cset(mem_type, H5Tget_cset(file_type)), what);
    std::vector<char*> buf(n, nullptr);
    read(mem_type, buf.data());
    for (char* s : buf) out.emplace_back(s == nullptr ? "" : s);
    for (char* s : buf) H5free_memory(s);
  } else {
    const std::size_t size = H5Tget_size(file_type);
    const bool space_padded = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD;
    const Handle mem_type(H5Tcopy(file_type), H5Tclose, what);
    std::vector<char> buf(n * size);
    read(mem_type, buf.data());
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * size, size);
      s.resize(std::min(s.find('\0'), s.size()));
      if (space_padded) s.resize(s.find_last_not_of(' ') + 1);
      out.push_back(std::move(s));
    }
  }
  return out;
}

bool has_attribute(hid_t obj, const char* name) {
  return check(H5Aexists(obj, name), fmt::format("cannot look up attribute '{}'", name)) > 0;
}

std::optional<std::string> read_string_attribute(hid_t obj, const char* name) {
  if (!has_attribute(obj, name)) return std::nullopt;
  const std::string what = fmt::format("cannot read attribute '{}'", name);
  const Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, what);
  std::vector<std::string> values = read_strings(attr, true, what);
  if (values.size() != 1) throw Failure(what + ": not a single string");
  return std::move(values.front());
}

/// Reads a numeric attribute, converted by HDF5 to `mem_type` (the native type of T).
template <typename T>
std::optional<T> read_number_attribute(hid_t obj, const char* name, hid_t mem_type) {
  if (!has_attribute(obj, name)) return std::nullopt;
  const std::string what = fmt::format("cannot read attribute '{}'", name);
  const Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, what);
  const Handle type(H5Aget_type(attr), H5Tclose, what);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) throw Failure(what + ": not a number");
  const Handle space(H5Aget_space(attr), H5Sclose, what);
  if (check(H5Sget_simple_extent_npoints(space), what) != 1) {
    throw Failure(what + ": not a single number");
  }
  T value{};
  check(H5Aread(attr, mem_type, &value), what);
  return value;
}

std::string join_dims(const std::vector<std::string>& dims) {
  std::string out;
  for (const std::string& d : dims) out += (out.empty() ? "" : ",") + d;
  return out;
}

std::vector<std::string> split_dims(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    out.push_back(text.substr(begin, comma - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return out;
}

// ---- writing ---------------------------------------------------------------------------

/// Chunk shape of about kChunkElements elements: inner dimensions whole, outer ones cut.
std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims) {
  std::vector<hsize_t> chunk = dims;
  auto total = [&] {
    hsize_t n = 1;
    for (const hsize_t c : chunk) n *= c;
    return n;
  };
  for (std::size_t i = 0; i < chunk.size() && total() > kChunkElements; ++i) {
    const hsize_t others = total() / chunk[i];
    chunk[i] = std::max<hsize_t>(1, kChunkElements / others);
  }
  return chunk;
}

Handle dataset_plist(const std::vector<hsize_t>& dims, std::size_t elements) {
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  if (elements > kCompressAbove && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    const std::vector<hsize_t> chunk = chunk_shape(dims);
    const char* what = "cannot set up compression";
    check(H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data()), what);
    check(H5Pset_shuffle(plist), what);
    check(H5Pset_deflate(plist, kDeflateLevel), what);
  }
  return plist;
}

void write_metadata(hid_t root, const RunMetadata& m) {
  write_string_attribute(root, "format", kFormat);
  write_number_attribute(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT64, kFormatVersion);
  write_string_attribute(root, "program_version", m.program_version);
  write_string_attribute(root, "git_commit", m.git_commit);
  write_number_attribute(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, m.seed);
  write_number_attribute(root, "replication", H5T_STD_U32LE, H5T_NATIVE_UINT32, m.replication);
  write_string_attribute(root, "scenario_name", m.scenario_name);
  write_string_attribute(root, "scenario", m.scenario_text);
  write_string_attribute(root, "scenario_hash", m.scenario_hash);
  write_string_attribute(root, "start_time", m.start_time);
  write_number_attribute(root, "wall_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m.wall_seconds);
  write_number_attribute(root, "threads", H5T_STD_U32LE, H5T_NATIVE_UINT32, m.threads);
  write_number_attribute(root, "scale", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m.scale);
  write_string_attribute(root, "first_month", m.first_month);
  write_string_attribute(root, "last_month", m.last_month);
}

Handle write_axis(hid_t axes_group, const Axis& axis) {
  const std::string what = fmt::format("cannot write axis '{}'", axis.name);
  const Handle type = utf8_string_type();
  const Handle space = simple_space({static_cast<hsize_t>(axis.labels.size())});
  Handle ds(
      H5Dcreate2(axes_group, axis.name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, what);
  if (!axis.labels.empty()) {
    std::vector<const char*> labels;
    labels.reserve(axis.labels.size());
    for (const std::string& label : axis.labels) labels.push_back(label.c_str());
    check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels.data()), what);
  }
  write_string_attribute(ds, "description", axis.description);
  check(H5DSset_scale(ds, axis.name.c_str()), what + ": cannot make it a dimension scale");
  return ds;
}

/// Creates the groups above `path` that do not exist yet (`created` remembers them).
void create_parent_groups(hid_t file, const std::string& path, std::set<std::string>& created) {
  const Handle plist = ordered_group_plist();
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string group = path.substr(0, slash);
    if (!created.insert(group).second) continue;
    const Handle g(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, plist, H5P_DEFAULT), H5Gclose,
                   fmt::format("cannot create group '{}'", group));
  }
}

void write_dataset(hid_t file, const Dataset& d, const std::map<std::string, Handle>& axes,
                   const Results& results) {
  const std::string what = fmt::format("cannot write dataset '{}'", d.path);
  std::vector<hsize_t> dims;
  for (const std::string& name : d.dims) {
    dims.push_back(static_cast<hsize_t>(results.axis(name)->labels.size()));
  }
  const Handle space = simple_space(dims);
  const Handle plist = dataset_plist(dims, d.values.size());
  const hid_t file_type = d.integer ? H5T_STD_I64LE : H5T_IEEE_F64LE;
  const Handle ds(
      H5Dcreate2(file, d.path.c_str(), file_type, space, H5P_DEFAULT, plist, H5P_DEFAULT), H5Dclose,
      what);
  if (!d.values.empty()) {
    if (d.integer) {
      // Validation guarantees every value is integral and within int64.
      std::vector<std::int64_t> ints(d.values.begin(), d.values.end());
      check(H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()), what);
    } else {
      check(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()), what);
    }
  }
  write_string_attribute(ds, "dims", join_dims(d.dims));
  write_string_attribute(ds, "units", d.units);
  write_string_attribute(ds, "description", d.description);
  for (unsigned i = 0; i < d.dims.size(); ++i) {
    const std::string& name = d.dims[i];
    check(H5DSattach_scale(ds, axes.at(name), i),
          fmt::format("{}: cannot attach axis '{}' to dimension {}", what, name, i));
    check(H5DSset_label(ds, i, name.c_str()),
          fmt::format("{}: cannot label dimension {}", what, i));
  }
}

/// Core-driver growth step: about the size of the data, within [1 MiB, 64 MiB].
std::size_t memory_increment(const Results& results) {
  std::size_t bytes = results.meta.scenario_text.size();
  for (const Axis& axis : results.axes) {
    for (const std::string& label : axis.labels) bytes += label.size() + 16;
  }
  for (const Dataset& d : results.datasets) bytes += d.values.size() * sizeof(double);
  return std::clamp<std::size_t>(bytes, std::size_t{1} << 20, std::size_t{64} << 20);
}

/// Builds the whole file in memory (HDF5's core driver, no backing store) and returns its
/// bytes. HDF5 never touches the disk, so a full disk cannot leave a half-closed HDF5 file
/// behind in the library; the bytes are written with plain POSIX calls instead.
std::vector<char> build_image(const Results& results) {
  const Handle fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "cannot create a property list");
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "cannot set link creation order");
  const Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a property list");
  check(H5Pset_fapl_core(fapl, memory_increment(results), false),
        "cannot select the in-memory file driver");
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "cannot set the file close degree");
  Handle file(H5Fcreate("regio-results-in-memory", H5F_ACC_TRUNC, fcpl, fapl), H5Fclose,
              "cannot create the file in memory");
  {
    const Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
    write_metadata(root, results.meta);
    const Handle plist = ordered_group_plist();
    const Handle axes_group(H5Gcreate2(file, detail::kAxesGroup, H5P_DEFAULT, plist, H5P_DEFAULT),
                            H5Gclose, "cannot create group /axes");
    std::map<std::string, Handle> axes;
    for (const Axis& axis : results.axes) axes.emplace(axis.name, write_axis(axes_group, axis));
    std::set<std::string> groups;
    for (const Dataset& d : results.datasets) {
      create_parent_groups(file, d.path, groups);
      write_dataset(file, d, axes, results);
    }
  }
  const char* what = "cannot finish the file in memory";
  check(H5Fflush(file, H5F_SCOPE_GLOBAL), what);
  const auto size = static_cast<std::size_t>(check(H5Fget_file_image(file, nullptr, 0), what));
  std::vector<char> image(size);
  check(H5Fget_file_image(file, image.data(), size), what);
  file.close(what);
  return image;
}

/// Writes `bytes` to a new file at `path` and flushes it to disk.
void write_to_disk(const fs::path& path, const std::vector<char>& bytes) {
  // The name holds this process's id and a per-process counter, so an existing file of
  // that name is a leftover of a crashed run that had the same process id.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    throw Failure(
        fmt::format("cannot create temporary file '{}': {}", path.string(), std::strerror(errno)));
  }
  std::size_t done = 0;
  int err = 0;
  while (done < bytes.size() && err == 0) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      err = EIO;
    } else if (errno != EINTR) {
      err = errno;
    }
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    throw Failure(
        fmt::format("cannot write temporary file '{}': {}", path.string(), std::strerror(err)));
  }
}

/// Best-effort flush of a directory entry change (the rename) to disk.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

fs::path temporary_path_for(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / fmt::format(".{}.tmp-{}-{}", path.filename().string(),
                                          static_cast<long>(::getpid()), counter++);
}

// ---- reading ---------------------------------------------------------------------------

herr_t collect_link(hid_t /*group*/, const char* name, const H5L_info_t* info, void* data) {
  if (info->type == H5L_TYPE_HARD) static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

/// Names of the hard links in a group, in creation order when the group tracks it.
std::vector<std::string> links_of(hid_t group, const std::string& group_path) {
  const std::string what = fmt::format("cannot list group '{}'", group_path);
  const Handle plist(H5Gget_create_plist(group), H5Pclose, what);
  unsigned order_flags = 0;
  check(H5Pget_link_creation_order(plist, &order_flags), what);
  std::vector<std::string> names;
  if ((order_flags & H5P_CRT_ORDER_TRACKED) != 0) {
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collect_link, &names) >= 0) {
      return names;
    }
    H5Eclear2(H5E_DEFAULT);
    names.clear();
  }
  hsize_t index = 0;
  check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &names), what);
  return names;
}

void read_metadata(hid_t root, RunMetadata& m) {
  auto text = [&](const char* name, std::string& field) {
    if (auto v = read_string_attribute(root, name)) field = std::move(*v);
  };
  text("program_version", m.program_version);
  text("git_commit", m.git_commit);
  if (auto v = read_number_attribute<std::uint64_t>(root, "seed", H5T_NATIVE_UINT64)) m.seed = *v;
  if (auto v = read_number_attribute<std::uint32_t>(root, "replication", H5T_NATIVE_UINT32)) {
    m.replication = *v;
  }
  text("scenario_name", m.scenario_name);
  text("scenario", m.scenario_text);
  text("scenario_hash", m.scenario_hash);
  text("start_time", m.start_time);
  if (auto v = read_number_attribute<double>(root, "wall_seconds", H5T_NATIVE_DOUBLE)) {
    m.wall_seconds = *v;
  }
  if (auto v = read_number_attribute<std::uint32_t>(root, "threads", H5T_NATIVE_UINT32)) {
    m.threads = *v;
  }
  if (auto v = read_number_attribute<double>(root, "scale", H5T_NATIVE_DOUBLE)) m.scale = *v;
  text("first_month", m.first_month);
  text("last_month", m.last_month);
}

void read_axes(hid_t file, Results& results) {
  if (check(H5Lexists(file, detail::kAxesGroup, H5P_DEFAULT), "cannot look up /axes") <= 0) {
    return;
  }
  const std::string group_path = std::string("/") + detail::kAxesGroup;
  const Handle group(H5Gopen2(file, detail::kAxesGroup, H5P_DEFAULT), H5Gclose,
                     "cannot open /axes");
  for (const std::string& name : links_of(group, group_path)) {
    const std::string what = fmt::format("cannot read axis '{}'", name);
    const Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose, what);
    Axis axis;
    axis.name = name;
    axis.labels = read_strings(ds, false, what);
    axis.description = read_string_attribute(ds, "description").value_or("");
    results.axes.push_back(std::move(axis));
  }
}

Dataset read_dataset(hid_t ds, const std::string& path, const Results& results) {
  const std::string what = fmt::format("cannot read dataset '{}'", path);
  Dataset d;
  d.path = path;
  const auto dims = read_string_attribute(ds, "dims");
  if (!dims) throw Failure(what + ": it has no 'dims' attribute");
  d.dims = split_dims(*dims);
  d.units = read_string_attribute(ds, "units").value_or("");
  d.description = read_string_attribute(ds, "description").value_or("");

  const Handle space(H5Dget_space(ds), H5Sclose, what);
  const int rank = check(H5Sget_simple_extent_ndims(space), what);
  std::vector<hsize_t> extent(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space, extent.data(), nullptr), what);
  if (extent.size() != d.dims.size()) {
    throw Failure(fmt::format("{}: it has {} dimensions but dims = '{}'", what, rank, *dims));
  }
  std::size_t count = 1;
  for (std::size_t i = 0; i < extent.size(); ++i) {
    const Axis* axis = results.axis(d.dims[i]);
    if (axis == nullptr) {
      throw Failure(fmt::format("{}: axis '{}' is not in /axes", what, d.dims[i]));
    }
    if (axis->labels.size() != extent[i]) {
      throw Failure(fmt::format("{}: dimension {} has length {} but axis '{}' has {} labels", what,
                                i, extent[i], axis->name, axis->labels.size()));
    }
    count *= static_cast<std::size_t>(extent[i]);
  }

  const Handle type(H5Dget_type(ds), H5Tclose, what);
  const H5T_class_t cls = H5Tget_class(type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) throw Failure(what + ": it is not numeric");
  d.integer = cls == H5T_INTEGER;
  if (count == 0) return d;
  if (d.integer) {
    std::vector<std::int64_t> ints(count);
    check(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()), what);
    d.values.assign(ints.begin(), ints.end());
  } else {
    d.values.resize(count);
    check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()), what);
  }
  return d;
}

/// Reads the datasets under `group` depth-first, skipping /axes at the root.
void read_group(hid_t group, const std::string& group_path, Results& results, int depth = 0) {
  if (depth > kMaxGroupDepth) {
    throw Failure(
        fmt::format("groups nest deeper than {} levels at '{}'", kMaxGroupDepth, group_path));
  }
  const bool root = group_path == "/";
  for (const std::string& name : links_of(group, group_path)) {
    if (root && name == detail::kAxesGroup) continue;
    const std::string path = (root ? "/" : group_path + "/") + name;
    const Handle obj(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose,
                     fmt::format("cannot open '{}'", path));
    const H5I_type_t type = H5Iget_type(obj);
    if (type == H5I_GROUP) {
      read_group(obj, path, results, depth + 1);
    } else if (type == H5I_DATASET) {
      results.datasets.push_back(read_dataset(obj, path, results));
    }
  }
}

Results read_file(const fs::path& path) {
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw Failure("not an HDF5 file");
  check(is_hdf5, "not a readable HDF5 file");
  const Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a property list");
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "cannot set the file close degree");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose, "cannot open the file");
  Results results;
  {
    const Handle root(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose, "cannot open the root group");
    const auto format = read_string_attribute(root, "format");
    if (format != kFormat) {
      throw Failure(format ? fmt::format("not a Regio results file (format is '{}', not '{}')",
                                         *format, kFormat)
                           : fmt::format("not a Regio results file (no 'format' attribute)"));
    }
    const auto version =
        read_number_attribute<std::int64_t>(root, "format_version", H5T_NATIVE_INT64);
    if (!version) throw Failure("no 'format_version' attribute");
    if (*version != kFormatVersion) {
      throw Failure(fmt::format("format_version {} is not supported (this build reads {})",
                                *version, kFormatVersion));
    }
    read_metadata(root, results.meta);
    read_axes(file, results);
    read_group(root, "/", results);
  }
  file.close("cannot close the file");
  return results;
}

}  // namespace

void check_writable(const fs::path& path) {
  const std::string where = fmt::format("cannot write '{}'", path.string());
  if (path.empty()) throw OutputError("cannot write results: the output path is empty");
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && status.type() != fs::file_type::not_found) {
    throw OutputError(fmt::format("{}: cannot access it ({})", where, ec.message()));
  }
  if (fs::is_directory(status)) throw OutputError(where + ": it is a directory");
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    throw OutputError(where + ": it exists and is not a regular file");
  }
  if (!path.has_filename()) throw OutputError(where + ": it does not name a file");
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const fs::file_status dir_status = fs::status(dir, ec);
  if (ec && dir_status.type() != fs::file_type::not_found) {
    throw OutputError(
        fmt::format("{}: cannot access directory '{}' ({})", where, dir.string(), ec.message()));
  }
  if (!fs::exists(dir_status)) {
    throw OutputError(fmt::format("{}: directory '{}' does not exist", where, dir.string()));
  }
  if (!fs::is_directory(dir_status)) {
    throw OutputError(fmt::format("{}: '{}' is not a directory", where, dir.string()));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw OutputError(fmt::format("{}: directory '{}' is not writable ({})", where, dir.string(),
                                  std::strerror(errno)));
  }
}

void write_hdf5(const fs::path& path, const Results& results) {
  const std::string where = fmt::format("cannot write results to '{}'", path.string());
  if (const std::string problem = detail::validate(results); !problem.empty()) {
    throw OutputError(fmt::format("{}: {}", where, problem));
  }
  check_writable(path);

  std::vector<char> image;
  try {
    const Session session;
    image = build_image(results);
  } catch (const Failure& e) {
    throw OutputError(fmt::format("{}: {}", where, e.what()));
  }

  const fs::path temporary = temporary_path_for(path);
  auto remove_temporary = [&] {
    std::error_code ignored;
    fs::remove(temporary, ignored);
  };
  try {
    write_to_disk(temporary, image);
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
      throw Failure(fmt::format("cannot rename '{}' to it: {}", temporary.string(), ec.message()));
    }
  } catch (const Failure& e) {
    remove_temporary();
    throw OutputError(fmt::format("{}: {}", where, e.what()));
  } catch (...) {
    remove_temporary();
    throw;
  }
  sync_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

Results read_hdf5(const fs::path& path) {
  const std::string where = fmt::format("cannot read results from '{}'", path.string());
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw OutputError(where + ": the file does not exist");
  if (fs::is_directory(status)) throw OutputError(where + ": it is a directory");
  const Session session;
  try {
    return read_file(path);
  } catch (const Failure& e) {
    throw OutputError(fmt::format("{}: {}", where, e.what()));
  }
}

}  // namespace regio::output
