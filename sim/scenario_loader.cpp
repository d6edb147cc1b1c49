#include "sim/scenario_loader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include "sim/csv.hpp"
#include "sim/doc_tree.hpp"
#include "sim/embedded.hpp"
#include "sim/errors.hpp"
#include "sim/sha256.hpp"

namespace regio {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_builtin = "builtin:";
constexpr double k_share_tolerance = 1e-3;  // shares are rounded to about 3-5 digits in tables
constexpr double k_inf = std::numeric_limits<double>::infinity();

bool is_builtin(const std::string& p) {
  return p.rfind(k_builtin, 0) == 0;
}

const EmbeddedFile* find_embedded(const std::string& rel) {
  for (const auto& f : embedded_files())
    if (f.path == rel) return &f;
  return nullptr;
}

/// Resolves `rel` (as written in `from_file`) to a readable path.
std::string resolve(const std::string& rel, const std::string& from_file) {
  if (is_builtin(from_file)) {
    std::string dir = from_file.substr(std::string(k_builtin).size());
    dir = dir.substr(0, dir.find_last_of('/') == std::string::npos ? 0 : dir.find_last_of('/') + 1);
    std::string joined = (fs::path(dir) / rel).lexically_normal().generic_string();
    return k_builtin + joined;
  }
  fs::path p(rel);
  if (p.is_absolute()) return p.string();
  return (fs::path(from_file).parent_path() / p).lexically_normal().string();
}

/// A builtin name ("key-region-leiden" or "key-region-leiden/baseline") to its path, or "".
std::string builtin_path_for(const std::string& name) {
  std::string n = name;
  if (n.size() > 5 && n.substr(n.size() - 5) == ".yaml") n = n.substr(0, n.size() - 5);
  for (const std::string& cand : {n + "/baseline.yaml", n + ".yaml"})
    if (find_embedded(cand)) return k_builtin + cand;
  return {};
}

/// Reads scenario inputs and records every file's text, in order, for the run's record.
class FileLog {
 public:
  std::string read(const std::string& path) {
    std::string text = read_scenario_file(path);
    if (std::find(paths_.begin(), paths_.end(), path) == paths_.end()) {
      paths_.push_back(path);
      log_ += fmt::format("# ==== file: {} ====\n{}", path, text);
      if (!text.empty() && text.back() != '\n') log_ += '\n';
    }
    return text;
  }
  const std::string& text() const { return log_; }

 private:
  std::vector<std::string> paths_;
  std::string log_;
};

[[noreturn]] void fail(const SourceLoc& at, const std::string& key, const std::string& msg) {
  throw InputError(at.file, at.line, at.column, key, msg);
}

/// Reads one YAML map, remembering which keys were asked for so that leftovers can be
/// reported as unknown keys with the nearest valid name.
class MapReader {
 public:
  MapReader(const DocNode& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node.kind != DocNode::Kind::map) fail(node.loc, path_, "expected a map of keys");
  }

  std::string key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const DocNode* optional(const std::string& key) {
    known_.push_back(key);
    return node_.find(key);
  }
  const DocNode& require(const std::string& key) {
    const DocNode* n = optional(key);
    if (!n) fail(node_.loc, key_path(key), "missing required key");
    return *n;
  }

  std::string string(const std::string& key) {
    const DocNode& n = require(key);
    if (n.kind != DocNode::Kind::scalar) fail(n.loc, key_path(key), "expected a text value");
    return n.scalar;
  }
  std::string string_or(const std::string& key, const std::string& fallback) {
    const DocNode* n = optional(key);
    if (!n) return fallback;
    if (n->kind != DocNode::Kind::scalar) fail(n->loc, key_path(key), "expected a text value");
    return n->scalar;
  }

  double number(const std::string& key, double min, double max) {
    return number_of(require(key), key_path(key), min, max);
  }

  /// A parameter: a plain number, or {value, range: [lo, hi], source}.
  Param param(const std::string& key, double min, double max) {
    const DocNode& n = require(key);
    const std::string kp = key_path(key);
    Param p;
    if (n.kind == DocNode::Kind::scalar) {
      p.value = number_of(n, kp, min, max);
      p.lo = p.hi = p.value;
      p.source = "set in " + n.loc.file;
      return p;
    }
    MapReader r(n, kp);
    p.value = r.number("value", min, max);
    p.source = r.string("source");
    if (p.source.empty())
      fail(n.loc, kp + ".source", "a source or the word 'estimate' is required");
    if (const DocNode* range = r.optional("range")) {
      if (range->kind != DocNode::Kind::sequence || range->items.size() != 2)
        fail(range->loc, kp + ".range", "expected [low, high]");
      p.lo = number_of(range->items[0], kp + ".range", min, max);
      p.hi = number_of(range->items[1], kp + ".range", min, max);
      if (p.lo > p.hi) fail(range->loc, kp + ".range", "low is above high");
    } else {
      p.lo = p.hi = p.value;
    }
    r.finish();
    return p;
  }

  /// Fails on any key that was not asked for.
  void finish() const {
    for (size_t i = 0; i < node_.entries.size(); ++i) {
      const std::string& k = node_.entries[i].first;
      if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
      std::string hint = nearest_name(k, known_);
      const SourceLoc& at = node_.key_locs[i];
      fail(at, key_path(k),
           hint.empty() ? fmt::format("unknown key (valid here: {})", fmt::join(known_, ", "))
                        : fmt::format("unknown key; did you mean '{}'?", hint));
    }
  }

  static double number_of(const DocNode& n, const std::string& kp, double min, double max) {
    if (n.kind != DocNode::Kind::scalar) fail(n.loc, kp, "expected a number");
    double v = 0;
    if (!parse_finite(n.scalar, v))
      fail(n.loc, kp, fmt::format("'{}' is not a finite number", n.scalar));
    if (v < min || v > max)
      fail(n.loc, kp, fmt::format("{} is outside the valid range [{}, {}]", n.scalar, min, max));
    return v;
  }

  const DocNode& node() const { return node_; }

 private:
  const DocNode& node_;
  std::string path_;
  std::vector<std::string> known_;
};

/// Loads a YAML file and everything it extends, merged (base first).
DocNode load_tree(const std::string& path, FileLog& files, int depth) {
  if (depth > 16) throw InputError(path, 0, 0, "extends", "extends chain is too deep (a cycle?)");
  DocNode tree = parse_yaml(files.read(path), path);
  const DocNode* ext = tree.find("extends");
  if (!ext) return tree;
  if (ext->kind != DocNode::Kind::scalar || ext->scalar.empty())
    fail(ext->loc, "extends", "expected the path or name of a base scenario");
  std::string base_path = resolve(ext->scalar, path);
  if (!is_builtin(base_path) && !fs::exists(base_path)) {
    std::string builtin = builtin_path_for(ext->scalar);
    if (builtin.empty())
      fail(ext->loc, "extends",
           fmt::format("base scenario '{}' not found (no file {} and no built-in scenario of "
                       "that name)",
                       ext->scalar, base_path));
    base_path = builtin;
  } else if (is_builtin(base_path) && !find_embedded(base_path.substr(8))) {
    std::string builtin = builtin_path_for(ext->scalar);
    if (builtin.empty())
      fail(ext->loc, "extends", fmt::format("base scenario '{}' not found", ext->scalar));
    base_path = builtin;
  }
  DocNode merged = load_tree(base_path, files, depth + 1);
  DocNode child = tree;
  auto& e = child.entries;
  for (size_t i = 0; i < e.size(); ++i)
    if (e[i].first == "extends") {
      e.erase(e.begin() + static_cast<long>(i));
      child.key_locs.erase(child.key_locs.begin() + static_cast<long>(i));
      break;
    }
  merge_into(merged, child);
  return merged;
}

/// Applies a dotted-key override ("demography.total_fertility=1.6") to the tree.
void apply_override(DocNode& root, const std::string& key, const std::string& value) {
  DocNode* node = &root;
  size_t start = 0;
  std::string walked;
  while (true) {
    size_t dot = key.find('.', start);
    std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    walked += (walked.empty() ? "" : ".") + part;
    if (node->kind == DocNode::Kind::null) node->kind = DocNode::Kind::map;
    if (node->kind != DocNode::Kind::map)
      throw InputError(
          "--set", 0, 0, key,
          fmt::format("'{}' is a value, not a section", walked.substr(0, walked.rfind('.'))));
    DocNode* next = node->find(part);
    if (!next) {
      // Unknown names are added and then reported by validation with the nearest valid key.
      node->entries.emplace_back(part, DocNode{});
      node->key_locs.push_back(SourceLoc{"--set", 0, 0});
      next = &node->entries.back().second;
      next->loc = SourceLoc{"--set", 0, 0};
    }
    node = next;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  DocNode v;
  v.kind = DocNode::Kind::scalar;
  v.scalar = value;
  v.loc = SourceLoc{"--set " + key, 0, 0};
  merge_into(*node, v);
}

CsvTable load_table(MapReader& tables, const std::string& key, FileLog& files) {
  const DocNode& n = tables.require(key);
  if (n.kind != DocNode::Kind::scalar) fail(n.loc, tables.key_path(key), "expected a file name");
  std::string path = resolve(n.scalar, n.loc.file);
  std::string text;
  try {
    text = files.read(path);
  } catch (const InputError& e) {
    fail(n.loc, tables.key_path(key), e.what());
  }
  return CsvTable(text, path);
}

void check_shares(const CsvTable& t, size_t row, const std::vector<std::string>& cols,
                  double* out) {
  double sum = 0;
  for (size_t i = 0; i < cols.size(); ++i) {
    out[i] = t.number(row, cols[i], 0.0, 1.0);
    sum += out[i];
  }
  if (std::abs(sum - 1.0) > k_share_tolerance)
    throw InputError(t.file(), t.line(row), 0, fmt::format("{}", fmt::join(cols, "+")),
                     fmt::format("shares sum to {:.6f}, not 1", sum));
}

std::string source_of(const CsvTable& t, size_t row) {
  const std::string& s = t.text(row, "source");
  if (s.empty())
    throw InputError(t.file(), t.line(row), 0, "source",
                     "every row needs a source or the word 'estimate'");
  return s;
}

/// Finds the zone with `code` or fails naming the table cell.
size_t zone_row(const Scenario& s, const CsvTable& t, size_t row, const std::string& column) {
  const std::string& code = t.text(row, column);
  for (size_t z = 0; z < s.zones.size(); ++z)
    if (s.zones[z].code == code) return z;
  std::vector<std::string> codes;
  for (const auto& z : s.zones) codes.push_back(z.code);
  std::string hint = nearest_name(code, codes);
  throw InputError(t.file(), t.line(row), 0, column,
                   fmt::format("unknown zone code '{}'{}", code,
                               hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
}

std::vector<std::string> field_columns(const std::string& prefix) {
  std::vector<std::string> cols;
  for (auto f : k_field_names) cols.push_back(prefix + std::string(f));
  return cols;
}
std::vector<std::string> education_columns(const std::string& prefix) {
  std::vector<std::string> cols;
  for (auto e : k_education_names) cols.push_back(prefix + std::string(e));
  return cols;
}

void read_zones(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "municipalities", files);
  t.require_columns({"code", "name", "inhabitants", "men", "women", "dwellings", "area_land_ha",
                     "lat", "lon", "source"});
  if (t.rows() == 0) throw InputError(t.file(), 1, 0, "", "at least one zone is required");
  std::set<std::string> codes;
  for (size_t r = 0; r < t.rows(); ++r) {
    ZoneSpec z;
    z.code = t.text(r, "code");
    z.name = t.text(r, "name");
    if (z.code.empty() || !codes.insert(z.code).second)
      throw InputError(t.file(), t.line(r), 0, "code", "zone codes must be present and unique");
    z.inhabitants = t.integer(r, "inhabitants", 1, 100'000'000);
    z.men = t.integer(r, "men", 0, 100'000'000);
    z.women = t.integer(r, "women", 0, 100'000'000);
    if (z.men + z.women != z.inhabitants)
      throw InputError(
          t.file(), t.line(r), 0, "men+women",
          fmt::format("men + women = {} but inhabitants = {}", z.men + z.women, z.inhabitants));
    z.dwellings = t.integer(r, "dwellings", 1, 100'000'000);
    z.area_land_ha = t.number(r, "area_land_ha", 0.0, 1e7);
    z.lat = t.number(r, "lat", -90.0, 90.0);
    z.lon = t.number(r, "lon", -180.0, 180.0);
    z.source = source_of(t, r);
    s.zones.push_back(z);
  }

  CsvTable ages = load_table(tables, "age_structure", files);
  std::vector<std::string> band_cols;
  for (int b = 0; b < k_age_bands; ++b)
    band_cols.push_back(b == k_age_bands - 1 ? fmt::format("a{}_plus", 5 * b)
                                             : fmt::format("a{}_{}", 5 * b, 5 * b + 4));
  std::vector<std::string> cols = {"code", "source"};
  cols.insert(cols.end(), band_cols.begin(), band_cols.end());
  ages.require_columns(cols);
  std::vector<bool> seen(s.zones.size(), false);
  for (size_t r = 0; r < ages.rows(); ++r) {
    size_t z = zone_row(s, ages, r, "code");
    check_shares(ages, r, band_cols, s.zones[z].age_shares.data());
    s.zones[z].age_source = source_of(ages, r);
    seen[z] = true;
  }
  for (size_t z = 0; z < seen.size(); ++z)
    if (!seen[z])
      throw InputError(ages.file(), 0, 0, "code",
                       fmt::format("no age structure for zone {}", s.zones[z].code));

  CsvTable edu = load_table(tables, "education_structure", files);
  std::vector<std::string> ecols = education_columns("");
  std::vector<std::string> ereq = {"code", "source"};
  ereq.insert(ereq.end(), ecols.begin(), ecols.end());
  edu.require_columns(ereq);
  std::fill(seen.begin(), seen.end(), false);
  for (size_t r = 0; r < edu.rows(); ++r) {
    size_t z = zone_row(s, edu, r, "code");
    check_shares(edu, r, ecols, s.zones[z].education_shares.data());
    s.zones[z].education_source = source_of(edu, r);
    seen[z] = true;
  }
  for (size_t z = 0; z < seen.size(); ++z)
    if (!seen[z])
      throw InputError(edu.file(), 0, 0, "code",
                       fmt::format("no education structure for zone {}", s.zones[z].code));

  CsvTable dyn = load_table(tables, "zone_dynamics", files);
  dyn.require_columns({"code", "in_migration_per_1000", "construction_per_year", "source"});
  std::fill(seen.begin(), seen.end(), false);
  for (size_t r = 0; r < dyn.rows(); ++r) {
    size_t z = zone_row(s, dyn, r, "code");
    s.zones[z].in_migration_per_1000 = dyn.number(r, "in_migration_per_1000", 0.0, 1000.0);
    s.zones[z].construction_per_year = dyn.number(r, "construction_per_year", 0.0, 1e6);
    source_of(dyn, r);
    seen[z] = true;
  }
  for (size_t z = 0; z < seen.size(); ++z)
    if (!seen[z])
      throw InputError(dyn.file(), 0, 0, "code",
                       fmt::format("no zone dynamics for zone {}", s.zones[z].code));
}

void read_construction(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "construction", files);
  t.require_columns({"zone", "name", "first_year", "last_year", "homes", "source"});
  for (size_t r = 0; r < t.rows(); ++r) {
    ConstructionPlan p;
    p.zone = s.zones[zone_row(s, t, r, "zone")].code;
    p.name = t.text(r, "name");
    p.first_year = static_cast<int>(t.integer(r, "first_year", 1900, 2200));
    p.last_year = static_cast<int>(t.integer(r, "last_year", 1900, 2200));
    if (p.last_year < p.first_year)
      throw InputError(t.file(), t.line(r), 0, "last_year", "last_year is before first_year");
    p.homes = t.integer(r, "homes", 0, 10'000'000);
    p.source = source_of(t, r);
    s.construction.push_back(p);
  }
}

int sector_cell(const Scenario& s, const CsvTable& t, size_t row, const std::string& column);

void read_institutions(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "institutions", files);
  std::vector<std::string> staff_cols = education_columns("staff_");
  std::vector<std::string> field_cols = field_columns("f_");
  std::vector<std::string> cols = {"name",    "zone",     "sector",          "level",
                                   "teaches", "students", "programme_years", "staff",
                                   "cluster", "source"};
  cols.insert(cols.end(), staff_cols.begin(), staff_cols.end());
  cols.insert(cols.end(), field_cols.begin(), field_cols.end());
  t.require_columns(cols);
  for (size_t r = 0; r < t.rows(); ++r) {
    InstitutionSpec in;
    in.name = t.text(r, "name");
    in.zone = s.zones[zone_row(s, t, r, "zone")].code;
    in.sector = sector_cell(s, t, r, "sector");
    const std::string& level = t.text(r, "level");
    auto it = std::find(k_education_names.begin(), k_education_names.end(), level);
    if (it == k_education_names.end() || it == k_education_names.begin())
      throw InputError(t.file(), t.line(r), 0, "level",
                       fmt::format("'{}' is not one of mbo, hbo, wo", level));
    in.level = static_cast<Education>(it - k_education_names.begin());
    in.teaches = t.integer(r, "teaches", 0, 1) == 1;
    in.students = t.number(r, "students", 0.0, 1e7);
    in.programme_years = t.number(r, "programme_years", 0.0, 10.0);
    in.staff = t.number(r, "staff", 0.0, 1e7);
    check_shares(t, r, staff_cols, in.staff_education.data());
    if (in.teaches) {
      check_shares(t, r, field_cols, in.field_shares.data());
      if (in.programme_years < 1.0)
        throw InputError(t.file(), t.line(r), 0, "programme_years",
                         "a teaching institution needs a programme of at least 1 year");
    }
    in.cluster = t.text(r, "cluster");
    in.source = source_of(t, r);
    s.institutions.push_back(in);
  }
}

void read_in_migrants(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "in_migrant_households", files);
  std::vector<std::string> ecols = education_columns("edu_");
  std::vector<std::string> cols = {"type",         "share",   "adults",  "children_min",
                                   "children_max", "age_min", "age_max", "source"};
  cols.insert(cols.end(), ecols.begin(), ecols.end());
  t.require_columns(cols);
  double total = 0.0;
  for (size_t r = 0; r < t.rows(); ++r) {
    InMigrantType m;
    m.name = t.text(r, "type");
    m.share = t.number(r, "share", 0.0, 1.0);
    m.adults = static_cast<int>(t.integer(r, "adults", 1, 4));
    m.children_min = static_cast<int>(t.integer(r, "children_min", 0, 8));
    m.children_max = static_cast<int>(t.integer(r, "children_max", m.children_min, 8));
    m.age_min = static_cast<int>(t.integer(r, "age_min", 16, 100));
    m.age_max = static_cast<int>(t.integer(r, "age_max", m.age_min, 100));
    check_shares(t, r, ecols, m.education.data());
    m.source = source_of(t, r);
    total += m.share;
    s.in_migrant_types.push_back(m);
  }
  if (t.rows() == 0 || std::abs(total - 1.0) > k_share_tolerance)
    throw InputError(t.file(), 0, 0, "share",
                     fmt::format("in-migrant household shares sum to {:.6f}, not 1", total));
}

std::vector<std::string> sector_keys(const Scenario& s) {
  std::vector<std::string> keys;
  for (const auto& sec : s.sectors) keys.push_back(sec.key);
  return keys;
}

int sector_cell(const Scenario& s, const CsvTable& t, size_t row, const std::string& column) {
  const std::string& key = t.text(row, column);
  const int k = s.sector_index(key);
  if (k >= 0) return k;
  std::string hint = nearest_name(key, sector_keys(s));
  throw InputError(t.file(), t.line(row), 0, column,
                   fmt::format("unknown sector '{}'{}", key,
                               hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
}

void read_sectors(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "sectors", files);
  std::vector<std::string> ecols = education_columns("edu_");
  std::vector<std::string> cols = {"sector",
                                   "name",
                                   "va",
                                   "wage",
                                   "input_share",
                                   "regional_sourcing",
                                   "household_share",
                                   "public_share",
                                   "export_growth",
                                   "productivity_growth",
                                   "mean_size",
                                   "space_per_job",
                                   "field",
                                   "source"};
  cols.insert(cols.end(), ecols.begin(), ecols.end());
  t.require_columns(cols);
  if (t.rows() == 0) throw InputError(t.file(), 0, 0, "sector", "at least one sector is required");
  double household = 0.0;
  for (size_t r = 0; r < t.rows(); ++r) {
    SectorSpec sec;
    sec.key = t.text(r, "sector");
    if (sec.key.empty() || s.sector_index(sec.key) >= 0)
      throw InputError(t.file(), t.line(r), 0, "sector", "sector keys must be present and unique");
    sec.name = t.text(r, "name");
    sec.va = t.number(r, "va", 1.0, 1e7);
    sec.wage = t.number(r, "wage", 0.0, 1e7);
    if (sec.wage > sec.va)
      throw InputError(t.file(), t.line(r), 0, "wage", "the wage exceeds value added per worker");
    sec.input_share = t.number(r, "input_share", 0.0, 0.95);
    sec.regional_sourcing = t.number(r, "regional_sourcing", 0.0, 1.0);
    sec.household_share = t.number(r, "household_share", 0.0, 1.0);
    sec.public_share = t.number(r, "public_share", 0.0, 1.0);
    sec.export_growth = t.number(r, "export_growth", -0.5, 1.0);
    sec.productivity_growth = t.number(r, "productivity_growth", -0.5, 0.5);
    check_shares(t, r, ecols, sec.education.data());
    sec.mean_size = t.number(r, "mean_size", 1.0, 1e5);
    sec.space_per_job = t.number(r, "space_per_job", 0.0, 1e4);
    if (const std::string field = t.text(r, "field"); field != "any") {
      const auto it = std::find(k_field_names.begin(), k_field_names.end(), field);
      if (it == k_field_names.end())
        throw InputError(t.file(), t.line(r), 0, "field",
                         fmt::format("unknown field '{}': one of {} or any", field,
                                     fmt::join(k_field_names, ", ")));
      sec.field = static_cast<int>(it - k_field_names.begin());
    }
    sec.source = source_of(t, r);
    household += sec.household_share;
    s.sectors.push_back(sec);
  }
  if (household > 1.0 + k_share_tolerance)
    throw InputError(t.file(), 0, 0, "household_share",
                     fmt::format("household shares sum to {:.4f}, more than 1", household));

  CsvTable io = load_table(tables, "input_coefficients", files);
  std::vector<std::string> keys = sector_keys(s);
  std::vector<std::string> iocols = {"customer", "source"};
  iocols.insert(iocols.end(), keys.begin(), keys.end());
  io.require_columns(iocols);
  s.input_coefficients.assign(s.sectors.size(), std::vector<double>(s.sectors.size(), 0.0));
  std::vector<bool> seen(s.sectors.size(), false);
  for (size_t r = 0; r < io.rows(); ++r) {
    const int c = sector_cell(s, io, r, "customer");
    check_shares(io, r, keys, s.input_coefficients[static_cast<size_t>(c)].data());
    source_of(io, r);
    seen[static_cast<size_t>(c)] = true;
  }
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c])
      throw InputError(io.file(), 0, 0, "customer",
                       fmt::format("no input coefficients for sector {}", s.sectors[c].key));
}

void read_zone_economy(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "zone_economy", files);
  std::vector<std::string> keys = sector_keys(s);
  std::vector<std::string> cols = {"code", "jobs", "source"};
  cols.insert(cols.end(), keys.begin(), keys.end());
  t.require_columns(cols);
  s.zone_economy.assign(s.zones.size(), ZoneEconomy{});
  std::vector<bool> seen(s.zones.size(), false);
  for (size_t r = 0; r < t.rows(); ++r) {
    const size_t z = zone_row(s, t, r, "code");
    ZoneEconomy& ze = s.zone_economy[z];
    ze.jobs = t.number(r, "jobs", 0.0, 1e8);
    ze.sector_shares.assign(keys.size(), 0.0);
    check_shares(t, r, keys, ze.sector_shares.data());
    ze.source = source_of(t, r);
    seen[z] = true;
  }
  for (size_t z = 0; z < seen.size(); ++z)
    if (!seen[z])
      throw InputError(t.file(), 0, 0, "code", fmt::format("no jobs for zone {}", s.zones[z].code));
}

void read_clusters(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "clusters", files);
  t.require_columns({"cluster", "zone", "sector", "site", "companies", "jobs", "source"});
  for (size_t r = 0; r < t.rows(); ++r) {
    ClusterSite c;
    c.cluster = t.text(r, "cluster");
    c.zone = s.zones[zone_row(s, t, r, "zone")].code;
    c.sector = sector_cell(s, t, r, "sector");
    c.site = t.text(r, "site");
    c.companies = static_cast<int>(t.integer(r, "companies", 1, 1'000'000));
    c.jobs = t.number(r, "jobs", 1.0, 1e7);
    c.source = source_of(t, r);
    s.clusters.push_back(c);
  }
}

void read_external_zones(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "external_zones", files);
  t.require_columns({"name", "lat", "lon", "workers", "jobs", "source"});
  for (size_t r = 0; r < t.rows(); ++r) {
    ExternalZone e;
    e.name = t.text(r, "name");
    e.lat = t.number(r, "lat", -90.0, 90.0);
    e.lon = t.number(r, "lon", -180.0, 180.0);
    e.workers = t.number(r, "workers", 0.0, 1e9);
    e.jobs = t.number(r, "jobs", 0.0, 1e9);
    e.source = source_of(t, r);
    s.external_zones.push_back(e);
  }
}

/// Every zone-sector must have room for the institutions' staff and the cluster companies.
void check_jobs_room(const Scenario& s, const std::string& file) {
  for (size_t z = 0; z < s.zones.size(); ++z)
    for (size_t k = 0; k < s.sectors.size(); ++k) {
      double fixed = 0.0;
      for (const auto& in : s.institutions)
        if (in.zone == s.zones[z].code && static_cast<size_t>(in.sector) == k) fixed += in.staff;
      for (const auto& c : s.clusters)
        if (c.zone == s.zones[z].code && static_cast<size_t>(c.sector) == k) fixed += c.jobs;
      const double room = s.zone_economy[z].jobs * s.zone_economy[z].sector_shares[k];
      if (fixed > room + 0.5)
        throw InputError(file, 0, 0, s.sectors[k].key,
                         fmt::format("{}: institutions and cluster companies employ {:.0f} in {} "
                                     "but the zone has only {:.0f} such jobs",
                                     s.zones[z].name, fixed, s.sectors[k].name, room));
    }
}

void read_economy(Scenario& s, MapReader& root) {
  {
    MapReader r(root.require("economy"), "economy");
    EconomyParams& e = s.economy;
    e.income_tax_rate = r.param("income_tax_rate", 0.0, 0.9);
    e.propensity_to_consume = r.param("propensity_to_consume", 0.0, 1.0);
    e.consumption_leakage = r.param("consumption_leakage", 0.0, 1.0);
    e.consumption_in_job_zone = r.param("consumption_in_job_zone", 0.0, 1.0);
    e.unemployment_benefit = r.param("unemployment_benefit", 0.0, 1e5);
    e.pension_income = r.param("pension_income", 0.0, 1e5);
    e.student_income = r.param("student_income", 0.0, 1e5);
    e.inactive_income = r.param("inactive_income", 0.0, 1e5);
    e.expectation_adjustment = r.param("expectation_adjustment", 0.0, 1.0);
    e.layoff_threshold = r.param("layoff_threshold", 0.0, 1.0);
    e.layoff_notice = r.param("layoff_notice", 0.0, 24.0);
    e.bankruptcy_months = r.param("bankruptcy_months", 1.0, 120.0);
    e.cash_months = r.param("cash_months", 0.0, 60.0);
    e.startup_rate = r.param("startup_rate", 0.0, 100.0);
    e.spinoff_rate = r.param("spinoff_rate", 0.0, 100.0);
    e.inward_investment = r.param("inward_investment", 0.0, 1000.0);
    e.spillover = r.param("spillover", 0.0, 0.1);
    e.digital_gain = r.param("digital_gain", 0.0, 0.1);
    e.digital_adoption = r.param("digital_adoption", 0.0, 1.0);
    e.succession_rate = r.param("succession_rate", 0.0, 1.0);
    e.solo_closure = r.param("solo_closure", 0.0, 1.0);
    e.demand_shock_sd = r.param("demand_shock_sd", 0.0, 1.0);
    e.demand_shock_persistence = r.param("demand_shock_persistence", 0.0, 1.0);
    r.finish();
  }
  {
    MapReader r(root.require("labour_market"), "labour_market");
    LabourMarketParams& l = s.labour_market;
    l.rounds = r.param("rounds", 1.0, 20.0);
    l.applications = r.param("applications", 1.0, 50.0);
    l.time_sensitivity = r.param("time_sensitivity", 0.0, 1.0);
    l.overqualification_penalty = r.param("overqualification_penalty", 0.0, 1.0);
    l.quit_rate = r.param("quit_rate", 0.0, 1.0);
    l.on_the_job_search = r.param("on_the_job_search", 0.0, 1.0);
    l.wage_tightness = r.param("wage_tightness", 0.0, 1.0);
    l.external_search = r.param("external_search", 0.0, 1.0);
    l.external_growth = r.param("external_growth", -0.1, 0.1);
    l.graduate_leave_base = r.param("graduate_leave_base", 0.0, 1.0);
    l.screening_pass = r.param("screening_pass", 0.0, 1.0);
    l.fill_rate = r.param("fill_rate", 0.01, 1.0);
    l.vacancy_rate = r.param("vacancy_rate", 0.0, 0.5);
    l.fill_tightness = r.param("fill_tightness", 0.0, 2.0);
    l.field_penalty = r.param("field_penalty", 0.0, 1.0);
    l.wage_factor_basic = r.param("wage_factor_basic", 0.1, 10.0);
    l.wage_factor_mbo = r.param("wage_factor_mbo", 0.1, 10.0);
    l.wage_factor_hbo = r.param("wage_factor_hbo", 0.1, 10.0);
    l.wage_factor_wo = r.param("wage_factor_wo", 0.1, 10.0);
    r.finish();
  }
  {
    MapReader r(root.require("commuting"), "commuting");
    CommutingParams& c = s.commuting;
    c.detour_factor = r.param("detour_factor", 1.0, 3.0);
    c.speed_car = r.param("speed_car", 1.0, 200.0);
    c.speed_bike = r.param("speed_bike", 1.0, 50.0);
    c.speed_pt = r.param("speed_pt", 1.0, 200.0);
    c.wait_pt = r.param("wait_pt", 0.0, 120.0);
    c.speed_walk = r.param("speed_walk", 1.0, 10.0);
    c.cost_car = r.param("cost_car", 0.0, 10.0);
    c.cost_pt = r.param("cost_pt", 0.0, 10.0);
    c.value_of_time = r.param("value_of_time", 0.0, 1000.0);
    c.share_car = r.param("share_car", 0.0, 1.0);
    c.share_bike = r.param("share_bike", 0.0, 1.0);
    c.share_pt = r.param("share_pt", 0.0, 1.0);
    c.share_walk = r.param("share_walk", 0.0, 1.0);
    const double sum = c.share_car + c.share_bike + c.share_pt + c.share_walk;
    if (std::abs(sum - 1.0) > k_share_tolerance)
      fail(r.node().loc, "commuting.share_car",
           fmt::format("mode shares (car, bike, pt, walk) sum to {:.4f}, not 1", sum));
    c.bpr_alpha = r.param("bpr_alpha", 0.0, 10.0);
    c.bpr_beta = r.param("bpr_beta", 0.0, 10.0);
    c.capacity_factor = r.param("capacity_factor", 0.01, 100.0);
    r.finish();
  }
}

void read_field_mix(Scenario& s, MapReader& tables, FileLog& files) {
  CsvTable t = load_table(tables, "field_by_education", files);
  std::vector<std::string> fcols(k_field_names.begin(), k_field_names.end());
  std::vector<std::string> cols = {"level", "source"};
  cols.insert(cols.end(), fcols.begin(), fcols.end());
  t.require_columns(cols);
  std::vector<bool> seen(k_education_levels, false);
  for (size_t r = 0; r < t.rows(); ++r) {
    const std::string& level = t.text(r, "level");
    auto it = std::find(k_education_names.begin(), k_education_names.end(), level);
    if (it == k_education_names.end())
      throw InputError(t.file(), t.line(r), 0, "level",
                       fmt::format("'{}' is not one of basic, mbo, hbo, wo", level));
    size_t l = static_cast<size_t>(it - k_education_names.begin());
    check_shares(t, r, fcols, s.field_by_education[l].data());
    source_of(t, r);
    seen[l] = true;
  }
  for (int l = 0; l < k_education_levels; ++l)
    if (!seen[l])
      throw InputError(t.file(), 0, 0, "level",
                       fmt::format("no row for level {}", k_education_names[l]));
}

/// "67y3m" -> months.
int parse_age_months(const DocNode& n, const std::string& kp) {
  if (n.kind != DocNode::Kind::scalar) fail(n.loc, kp, "expected an age like 67y3m");
  int y = 0, m = 0;
  char c1 = 0, c2 = 0;
  std::istringstream in(n.scalar);
  if (!(in >> y >> c1) || c1 != 'y' || y < 50 || y > 80)
    fail(n.loc, kp, fmt::format("'{}' is not an age like 67y3m (years 50-80)", n.scalar));
  if (in >> m >> c2) {
    if (c2 != 'm' || m < 0 || m > 11)
      fail(n.loc, kp, fmt::format("'{}': months must be 0-11", n.scalar));
  }
  return y * 12 + m;
}

void read_demography(Scenario& s, MapReader& root) {
  MapReader r(root.require("demography"), "demography");
  DemographyParams& d = s.demography;
  d.life_expectancy_at_birth = r.param("life_expectancy_at_birth", 40.0, 110.0);
  d.gompertz_slope = r.param("gompertz_slope", 0.01, 0.3);
  d.total_fertility = r.param("total_fertility", 0.0, 8.0);
  d.mean_age_at_birth = r.param("mean_age_at_birth", 18.0, 45.0);
  d.sd_age_at_birth = r.param("sd_age_at_birth", 1.0, 12.0);
  d.share_boys = r.param("share_boys", 0.0, 1.0);
  d.leave_home_median_age = r.param("leave_home_median_age", 16.0, 40.0);
  d.leave_home_spread = r.param("leave_home_spread", 0.1, 10.0);
  d.leave_home_out_of_region = r.param("leave_home_out_of_region", 0.0, 1.0);
  d.union_peak_rate = r.param("union_peak_rate", 0.0, 1.0);
  d.union_peak_age = r.param("union_peak_age", 16.0, 60.0);
  d.union_age_spread = r.param("union_age_spread", 1.0, 30.0);
  d.out_migration_young = r.param("out_migration_young", 0.0, 1.0);
  d.out_migration_mid = r.param("out_migration_mid", 0.0, 1.0);
  d.out_migration_old = r.param("out_migration_old", 0.0, 1.0);
  d.occupancy = r.param("occupancy", 0.5, 1.0);
  d.frictional_vacancy = r.param("frictional_vacancy", 0.0, 0.5);
  d.in_migration_tightness = r.param("in_migration_tightness", 0.0, 5.0);
  const DocNode& pen = r.require("pension_age");
  if (pen.kind != DocNode::Kind::sequence || pen.items.empty())
    fail(pen.loc, "demography.pension_age", "expected a list of {from_year, age, source}");
  for (size_t i = 0; i < pen.items.size(); ++i) {
    std::string kp = fmt::format("demography.pension_age[{}]", i);
    MapReader p(pen.items[i], kp);
    PensionStep step;
    step.from_year = static_cast<int>(p.number("from_year", 1900, 2200));
    step.age_months = parse_age_months(p.require("age"), kp + ".age");
    if (p.string("source").empty()) fail(pen.items[i].loc, kp + ".source", "a source is required");
    p.finish();
    if (!d.pension.empty() && step.from_year <= d.pension.back().from_year)
      fail(pen.items[i].loc, kp + ".from_year", "years must increase");
    d.pension.push_back(step);
  }
  r.finish();
}

void read_education(Scenario& s, MapReader& root) {
  MapReader r(root.require("education"), "education");
  EducationParams& e = s.education;
  MapReader tracks(r.require("track_by_parent"), "education.track_by_parent");
  if (tracks.string("source").empty())
    fail(tracks.node().loc, "education.track_by_parent.source", "a source is required");
  for (int l = 0; l < k_education_levels; ++l) {
    std::string name(k_education_names[l]);
    const DocNode& row = tracks.require(name);
    std::string kp = "education.track_by_parent." + name;
    if (row.kind != DocNode::Kind::sequence || row.items.size() != k_education_levels)
      fail(row.loc, kp, "expected four shares [basic, mbo, hbo, wo]");
    double sum = 0;
    for (int j = 0; j < k_education_levels; ++j) {
      e.track_by_parent[l][j] = MapReader::number_of(row.items[j], kp, 0.0, 1.0);
      sum += e.track_by_parent[l][j];
    }
    if (std::abs(sum - 1.0) > k_share_tolerance)
      fail(row.loc, kp, fmt::format("shares sum to {:.6f}, not 1", sum));
  }
  tracks.finish();
  e.completion_mbo = r.param("completion_mbo", 0.0, 1.0);
  e.completion_hbo = r.param("completion_hbo", 0.0, 1.0);
  e.completion_wo = r.param("completion_wo", 0.0, 1.0);
  e.enrolled_in_region_mbo = r.param("enrolled_in_region_mbo", 0.0, 1.0);
  e.enrolled_in_region_hbo = r.param("enrolled_in_region_hbo", 0.0, 1.0);
  e.enrolled_in_region_wo = r.param("enrolled_in_region_wo", 0.0, 1.0);
  e.outside_students_moving_in = r.param("outside_students_moving_in", 0.0, 1.0);
  e.graduate_leave_hbo = r.param("graduate_leave_hbo", 0.0, 1.0);
  e.graduate_leave_wo = r.param("graduate_leave_wo", 0.0, 1.0);
  r.finish();
}

void read_labour(Scenario& s, MapReader& root) {
  MapReader r(root.require("labour"), "labour");
  LabourParams& l = s.labour;
  for (int e = 0; e < k_education_levels; ++e)
    l.participation[e] = r.param("participation_" + std::string(k_education_names[e]), 0.0, 1.0);
  l.unemployment_rate = r.param("unemployment_rate", 0.0, 0.5);
  l.inactivity_exit = r.param("inactivity_exit", 0.0, 1.0);
  l.student_job_share = r.param("student_job_share", 0.0, 1.0);
  r.finish();
}

Month read_month(MapReader& r, const std::string& key) {
  const DocNode& n = r.require(key);
  Month m;
  if (n.kind != DocNode::Kind::scalar || !Month::parse(n.scalar, m) || m.year() < 1900 ||
      m.year() > 2200)
    fail(n.loc, r.key_path(key), fmt::format("'{}' is not a month like 2026-01", n.scalar));
  return m;
}

}  // namespace

std::string read_scenario_file(const std::string& path) {
  if (is_builtin(path)) {
    if (const EmbeddedFile* f = find_embedded(path.substr(std::string(k_builtin).size())))
      return std::string(f->data);
    throw InputError(path, 0, 0, "", "no such built-in scenario file");
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, 0, 0, "", "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, 0, "", "cannot open file (missing or unreadable)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> builtin_scenarios() {
  std::vector<std::string> out;
  for (const auto& f : embedded_files()) {
    std::string p(f.path);
    if (p.size() > 5 && p.substr(p.size() - 5) == ".yaml") out.push_back(p.substr(0, p.size() - 5));
  }
  return out;
}

Scenario load_scenario(const std::string& spec,
                       const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::string path = spec;
  std::error_code ec;
  if (!fs::exists(spec, ec)) {
    std::string builtin = builtin_path_for(spec);
    if (builtin.empty()) {
      std::vector<std::string> names = builtin_scenarios();
      for (const auto& n : builtin_scenarios())  // "region/baseline" is also known as "region"
        if (n.size() > 9 && n.substr(n.size() - 9) == "/baseline")
          names.push_back(n.substr(0, n.size() - 9));
      std::string hint = nearest_name(spec, names);
      throw InputError(spec, 0, 0, "",
                       fmt::format("no such scenario file, and no built-in scenario of that name{}",
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    path = builtin;
  }
  FileLog files;
  DocNode tree = load_tree(path, files, 0);
  for (const auto& [k, v] : overrides) apply_override(tree, k, v);

  Scenario s;
  MapReader root(tree, "");
  s.name = root.string("name");
  if (s.name.empty()) fail(tree.loc, "name", "a scenario needs a name");
  s.description = root.string_or("description", "");
  s.seed = static_cast<std::uint64_t>(root.number("seed", 0.0, 9007199254740991.0));
  {
    MapReader period(root.require("period"), "period");
    s.start = read_month(period, "start");
    s.end = read_month(period, "end");
    if (s.end < s.start)
      fail(period.node().find("end")->loc, "period.end", "the end is before the start");
    period.finish();
  }
  MapReader tables(root.require("tables"), "tables");
  read_zones(s, tables, files);
  read_construction(s, tables, files);
  read_sectors(s, tables, files);
  read_institutions(s, tables, files);
  read_field_mix(s, tables, files);
  read_in_migrants(s, tables, files);
  read_zone_economy(s, tables, files);
  read_clusters(s, tables, files);
  read_external_zones(s, tables, files);
  check_jobs_room(s, path);
  tables.finish();
  read_demography(s, root);
  read_education(s, root);
  read_labour(s, root);
  read_economy(s, root);
  root.optional("extends");
  root.finish();

  s.text = files.text();
  if (!overrides.empty()) {
    s.text += "# ==== overrides ====\n";
    for (const auto& [k, v] : overrides) s.text += k + ": " + v + "\n";
  }
  s.hash = sha256_hex(s.text);
  return s;
}

int Scenario::sector_index(const std::string& key) const {
  for (size_t k = 0; k < sectors.size(); ++k)
    if (sectors[k].key == key) return static_cast<int>(k);
  return -1;
}

int Scenario::zone_index(const std::string& code) const {
  for (size_t z = 0; z < zones.size(); ++z)
    if (zones[z].code == code) return static_cast<int>(z);
  return -1;
}

}  // namespace regio
