// Tests of sim/scenario_loader: the built-in default region, `extends:`, overrides, and
// that every kind of bad input is an InputError naming the file, the line and the key.
//
// Bad scenarios are made by copying the default scenario directory into a fresh temporary
// directory and changing exactly one thing in one file.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sim/errors.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_loader.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using regio::InputError;
using regio::load_scenario;
using regio::Param;
using regio::Scenario;

namespace {

using Overrides = std::vector<std::pair<std::string, std::string>>;

const fs::path k_scenario_dir = fs::path(REGIO_SOURCE_DIR) / "scenarios" / "key-region-leiden";

using regio::testing::TempDir;

std::string read_text(const fs::path& path) {
  REQUIRE(fs::exists(path));
  return regio::testing::read_text(path);
}

void write_text(const fs::path& path, const std::string& text) {
  REQUIRE(regio::testing::write_text(path, text));
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

/// 1-based number of the line holding the first occurrence of `needle` (0 if absent).
int line_of(const std::string& text, const std::string& needle) {
  const size_t p = text.find(needle);
  if (p == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(p), '\n'));
}

/// A copy of the default scenario in a temporary directory, to be broken one edit at a time.
class ScenarioCopy {
 public:
  ScenarioCopy() {
    for (const auto& entry : fs::directory_iterator(k_scenario_dir))
      fs::copy_file(entry.path(), dir_ / entry.path().filename().string());
  }

  fs::path path(const std::string& file) const { return dir_ / file; }
  /// The scenario to load: the copied baseline.yaml.
  std::string yaml() const { return path("baseline.yaml").string(); }
  const fs::path& dir() const { return dir_.path(); }

  /// Replaces the only occurrence of `from` in `file` by `to`; returns the line of the edit.
  int edit(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = read_text(path(file));
    INFO(file << ": replacing '" << from << "'");
    REQUIRE(count_of(text, from) == 1);
    const size_t p = text.find(from);
    const int line = line_of(text, from);
    text.replace(p, from.size(), to);
    write_text(path(file), text);
    return line;
  }

  /// Replaces every occurrence of `from` in `file` by `to`; returns how many there were.
  size_t edit_all(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = read_text(path(file));
    size_t n = 0;
    for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) {
      text.replace(p, from.size(), to);
      ++n;
    }
    write_text(path(file), text);
    return n;
  }

  /// Replaces the whole line that starts with `prefix` (the only such line) by `line_text`;
  /// returns its line number.
  int edit_line(const std::string& file, const std::string& prefix, const std::string& line_text) {
    std::string text = read_text(path(file));
    INFO(file << ": replacing the line starting '" << prefix << "'");
    std::vector<size_t> starts;
    for (size_t b = 0; b < text.size();) {
      if (text.compare(b, prefix.size(), prefix) == 0) starts.push_back(b);
      const size_t nl = text.find('\n', b);
      b = nl == std::string::npos ? text.size() : nl + 1;
    }
    REQUIRE(starts.size() == 1);
    const size_t b = starts[0];
    const size_t e = text.find('\n', b);
    const int line = line_of(text, text.substr(b, e - b));
    text.replace(b, e - b, line_text);
    write_text(path(file), text);
    return line;
  }

 private:
  TempDir dir_;
};

/// What load_scenario threw: the InputError's message and fields.
struct Thrown {
  std::string message;
  std::string file;
  int line = 0;
  std::string key;
};

/// Loads `spec`, which must fail with an InputError (any other exception fails the test).
Thrown input_error(const std::string& spec, const Overrides& overrides = {}) {
  try {
    (void)load_scenario(spec, overrides);
  } catch (const InputError& e) {
    return Thrown{e.what(), e.file(), e.line(), e.key()};
  }
  FAIL("load_scenario accepted a bad scenario: " << spec);
  return {};
}

/// Checks that the message names `file` at `line` ("file:line:" or "file:line:col:") and
/// quotes `key`.
void check_names(const Thrown& t, const fs::path& file, int line, const std::string& key) {
  INFO("message: " << t.message);
  CHECK(line > 0);
  CHECK_THAT(t.message, Contains(file.string() + ":" + std::to_string(line) + ":"));
  CHECK_THAT(t.message, Contains("key '" + key + "'"));
  CHECK(t.file == file.string());
  CHECK(t.line == line);
  CHECK(t.key == key);
}

/// Every behavioural parameter of a scenario, with its dotted name.
std::vector<std::pair<std::string, const Param*>> all_params(const Scenario& s) {
  const auto& d = s.demography;
  const auto& e = s.education;
  const auto& l = s.labour;
  return {{"life_expectancy_at_birth", &d.life_expectancy_at_birth},
          {"gompertz_slope", &d.gompertz_slope},
          {"total_fertility", &d.total_fertility},
          {"mean_age_at_birth", &d.mean_age_at_birth},
          {"sd_age_at_birth", &d.sd_age_at_birth},
          {"share_boys", &d.share_boys},
          {"leave_home_median_age", &d.leave_home_median_age},
          {"leave_home_spread", &d.leave_home_spread},
          {"leave_home_out_of_region", &d.leave_home_out_of_region},
          {"out_migration_young", &d.out_migration_young},
          {"out_migration_mid", &d.out_migration_mid},
          {"out_migration_old", &d.out_migration_old},
          {"occupancy", &d.occupancy},
          {"frictional_vacancy", &d.frictional_vacancy},
          {"in_migration_tightness", &d.in_migration_tightness},
          {"completion_mbo", &e.completion_mbo},
          {"completion_hbo", &e.completion_hbo},
          {"completion_wo", &e.completion_wo},
          {"enrolled_in_region_mbo", &e.enrolled_in_region_mbo},
          {"enrolled_in_region_hbo", &e.enrolled_in_region_hbo},
          {"enrolled_in_region_wo", &e.enrolled_in_region_wo},
          {"outside_students_moving_in", &e.outside_students_moving_in},
          {"graduate_leave_hbo", &e.graduate_leave_hbo},
          {"graduate_leave_wo", &e.graduate_leave_wo},
          {"participation_basic", &l.participation[0]},
          {"participation_mbo", &l.participation[1]},
          {"participation_hbo", &l.participation[2]},
          {"participation_wo", &l.participation[3]},
          {"unemployment_rate", &l.unemployment_rate},
          {"inactivity_exit", &l.inactivity_exit}};
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The built-in default region

TEST_CASE("the built-in default scenario loads", "[scenario]") {
  const Scenario s = load_scenario(regio::k_default_scenario);
  CHECK(s.name == "key-region-leiden");
  CHECK(s.seed == 20260101u);
  CHECK(s.start == regio::Month::of(2026, 1));
  CHECK(s.end == regio::Month::of(2046, 12));
  CHECK(s.months() == 252);

  REQUIRE(s.zones.size() == 7);
  std::int64_t inhabitants = 0, dwellings = 0;
  for (const auto& z : s.zones) {
    INFO("zone " << z.code);
    inhabitants += z.inhabitants;
    dwellings += z.dwellings;
    CHECK(z.men + z.women == z.inhabitants);
    CHECK(z.dwellings > 0);
    CHECK_FALSE(z.source.empty());
    CHECK_FALSE(z.age_source.empty());
    CHECK_FALSE(z.education_source.empty());
    double age_sum = 0, edu_sum = 0;
    for (double v : z.age_shares) age_sum += v;
    for (double v : z.education_shares) edu_sum += v;
    CHECK(age_sum == Approx(1.0).margin(1e-3));
    CHECK(edu_sum == Approx(1.0).margin(1e-3));
  }
  CHECK(inhabitants == 331849);
  CHECK(dwellings == 152228);
  const int leiden = s.zone_index("GM0546");
  REQUIRE(leiden >= 0);
  CHECK(s.zones[static_cast<size_t>(leiden)].name == "Leiden");
  CHECK(s.zones[static_cast<size_t>(leiden)].inhabitants == 130108);
  CHECK(s.zone_index("GM9999") == -1);

  CHECK(s.institutions.size() == 6);
  CHECK(s.institutions.front().name == "Leiden University");
  CHECK(s.construction.size() == 1);
  CHECK_FALSE(s.in_migrant_types.empty());

  const auto& pension = s.demography.pension;
  REQUIRE(pension.size() == 6);
  CHECK(pension.front().from_year == 2024);
  CHECK(pension.front().age_months == 67 * 12);
  CHECK(pension[1].from_year == 2028);
  CHECK(pension[1].age_months == 67 * 12 + 3);
  CHECK(pension.back().from_year == 2043);
  CHECK(pension.back().age_months == 68 * 12 + 3);

  CHECK(s.demography.total_fertility.value == 1.45);
  CHECK(s.demography.total_fertility.lo == 1.3);
  CHECK(s.demography.total_fertility.hi == 1.7);
  CHECK(s.education.track_by_parent[3][3] == 0.50);
  for (const auto& [name, p] : all_params(s)) {
    INFO("parameter " << name);
    CHECK_FALSE(p->source.empty());
    CHECK(p->lo <= p->value);
    CHECK(p->value <= p->hi);
  }

  CHECK(is_hex64(s.hash));
  CHECK_THAT(s.text, Contains("builtin:key-region-leiden/baseline.yaml"));
  CHECK_THAT(s.text, Contains("municipalities.csv"));
}

TEST_CASE("the default scenario's hash is stable and its names are equivalent", "[scenario]") {
  const Scenario a = load_scenario("key-region-leiden");
  const Scenario b = load_scenario("key-region-leiden");
  const Scenario c = load_scenario("key-region-leiden/baseline");
  CHECK(is_hex64(a.hash));
  CHECK(a.hash == b.hash);
  CHECK(a.text == b.text);
  CHECK(a.hash == c.hash);
  const auto names = regio::builtin_scenarios();
  CHECK(std::find(names.begin(), names.end(), "key-region-leiden/baseline") != names.end());
}

TEST_CASE("a copy of the default scenario on disk loads like the built-in", "[scenario]") {
  ScenarioCopy copy;
  const Scenario disk = load_scenario(copy.yaml());
  const Scenario builtin = load_scenario(regio::k_default_scenario);
  CHECK(disk.zones.size() == builtin.zones.size());
  CHECK(disk.demography.total_fertility.value == builtin.demography.total_fertility.value);
  CHECK(disk.demography.total_fertility.source == builtin.demography.total_fertility.source);
  // The record names the files read, so the hash differs from the built-in's.
  CHECK_THAT(disk.text, Contains(copy.yaml()));
  CHECK(is_hex64(disk.hash));
  CHECK(disk.hash != builtin.hash);
}

// ---------------------------------------------------------------------------------------------
// extends: and overrides

TEST_CASE("extends: a built-in scenario by name, overriding one parameter", "[scenario]") {
  TempDir dir;
  const fs::path user = dir / "low-fertility.yaml";
  write_text(user,
             "extends: key-region-leiden\n"
             "name: low-fertility\n"
             "demography:\n"
             "  total_fertility: 1.35\n");
  const Scenario base = load_scenario(regio::k_default_scenario);
  const Scenario s = load_scenario(user.string());

  CHECK(s.name == "low-fertility");
  CHECK(s.zones.size() == 7);
  CHECK(s.seed == base.seed);
  CHECK(s.start == base.start);
  CHECK(s.end == base.end);
  const Param& tf = s.demography.total_fertility;
  CHECK(tf.value == 1.35);
  CHECK(tf.lo == base.demography.total_fertility.lo);  // a plain number keeps the range
  CHECK(tf.hi == base.demography.total_fertility.hi);
  CHECK(tf.source == "set in " + user.string());

  // Everything else is the base's.
  const auto ps = all_params(s);
  const auto pb = all_params(base);
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].first == "total_fertility") continue;
    INFO("parameter " << ps[i].first);
    CHECK(ps[i].second->value == pb[i].second->value);
    CHECK(ps[i].second->lo == pb[i].second->lo);
    CHECK(ps[i].second->hi == pb[i].second->hi);
    CHECK(ps[i].second->source == pb[i].second->source);
  }
  CHECK(s.demography.pension.size() == base.demography.pension.size());
  CHECK(s.institutions.size() == base.institutions.size());

  // The record holds both files; the hash differs from the base's.
  CHECK_THAT(s.text, Contains(user.string()));
  CHECK_THAT(s.text, Contains("builtin:key-region-leiden/baseline.yaml"));
  CHECK(is_hex64(s.hash));
  CHECK(s.hash != base.hash);
}

TEST_CASE("extends: a local file, overriding a parameter map and a table", "[scenario]") {
  ScenarioCopy copy;
  const fs::path user = copy.path("more-homes.yaml");
  write_text(copy.path("zone_dynamics_high.csv"), read_text(copy.path("zone_dynamics.csv")));
  copy.edit("zone_dynamics_high.csv", "GM0546,95,550,estimate", "GM0546,95,1550,estimate");
  write_text(user,
             "extends: baseline.yaml\n"
             "name: more-homes\n"
             "seed: 7\n"
             "period:\n"
             "  end: 2030-12\n"
             "tables:\n"
             "  zone_dynamics: zone_dynamics_high.csv\n"
             "education:\n"
             "  graduate_leave_wo: {value: 0.5, range: [0.3, 0.6], source: \"test\"}\n"
             "labour:\n"
             "  unemployment_rate: 0.05\n");
  const Scenario base = load_scenario(copy.yaml());
  const Scenario s = load_scenario(user.string());

  CHECK(s.name == "more-homes");
  CHECK(s.seed == 7u);
  CHECK(s.start == base.start);  // only `end` was overridden in period
  CHECK(s.end == regio::Month::of(2030, 12));
  const int leiden = s.zone_index("GM0546");
  REQUIRE(leiden >= 0);
  CHECK(s.zones[static_cast<size_t>(leiden)].construction_per_year == 1550);
  CHECK(base.zones[static_cast<size_t>(leiden)].construction_per_year == 550);
  CHECK(s.zones[static_cast<size_t>(leiden)].age_shares ==
        base.zones[static_cast<size_t>(leiden)].age_shares);

  const Param& gl = s.education.graduate_leave_wo;
  CHECK(gl.value == 0.5);
  CHECK(gl.lo == 0.3);
  CHECK(gl.hi == 0.6);
  CHECK(gl.source == "test");
  const Param& ur = s.labour.unemployment_rate;
  CHECK(ur.value == 0.05);
  CHECK(ur.lo == base.labour.unemployment_rate.lo);
  CHECK(ur.hi == base.labour.unemployment_rate.hi);
  CHECK(ur.source == "set in " + user.string());
  CHECK(s.demography.total_fertility.value == base.demography.total_fertility.value);
  CHECK(s.demography.total_fertility.source == base.demography.total_fertility.source);
  CHECK(s.labour.participation[2].value == base.labour.participation[2].value);
}

TEST_CASE("extends: chains through two user files", "[scenario]") {
  ScenarioCopy copy;
  write_text(copy.path("middle.yaml"),
             "extends: baseline.yaml\nname: middle\ndemography:\n  total_fertility: 1.6\n");
  write_text(copy.path("top.yaml"),
             "extends: middle.yaml\nname: top\ndemography:\n  share_boys: 0.51\n");
  const Scenario s = load_scenario(copy.path("top.yaml").string());
  CHECK(s.name == "top");
  CHECK(s.demography.total_fertility.value == 1.6);
  CHECK(s.demography.total_fertility.source == "set in " + copy.path("middle.yaml").string());
  CHECK(s.demography.share_boys.value == 0.51);
  CHECK(s.demography.share_boys.source == "set in " + copy.path("top.yaml").string());
}

TEST_CASE("overrides are applied last, like --set", "[scenario]") {
  const Scenario base = load_scenario(regio::k_default_scenario);
  const Scenario s = load_scenario(
      regio::k_default_scenario,
      {{"demography.total_fertility", "1.6"}, {"seed", "42"}, {"period.end", "2030-12"}});
  const Param& tf = s.demography.total_fertility;
  CHECK(tf.value == 1.6);
  CHECK(tf.lo == base.demography.total_fertility.lo);
  CHECK(tf.hi == base.demography.total_fertility.hi);
  CHECK_THAT(tf.source, Contains("set in --set demography.total_fertility"));
  CHECK(s.seed == 42u);
  CHECK(s.end == regio::Month::of(2030, 12));
  CHECK(s.demography.share_boys.value == base.demography.share_boys.value);
  CHECK_THAT(s.text, Contains("demography.total_fertility: 1.6"));
  CHECK(is_hex64(s.hash));
  CHECK(s.hash != base.hash);
  // The same overrides give the same hash.
  CHECK(load_scenario(
            regio::k_default_scenario,
            {{"demography.total_fertility", "1.6"}, {"seed", "42"}, {"period.end", "2030-12"}})
            .hash == s.hash);
}

TEST_CASE("overrides also apply on top of a user file that extends", "[scenario]") {
  TempDir dir;
  const fs::path user = dir / "u.yaml";
  write_text(user, "extends: key-region-leiden\ndemography:\n  total_fertility: 1.35\n");
  const Scenario s = load_scenario(user.string(), {{"demography.total_fertility", "1.5"}});
  CHECK(s.demography.total_fertility.value == 1.5);
  CHECK_THAT(s.demography.total_fertility.source, Contains("--set"));
}

// ---------------------------------------------------------------------------------------------
// Bad input: every case is an InputError that names the file, the line and the key.

TEST_CASE("bad input: malformed YAML, an unclosed bracket", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "range: [1.3, 1.7]", "range: [1.3, 1.7");
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains(copy.yaml() + ":"));
  CHECK_THAT(t.message, Contains("malformed YAML"));
  CHECK(t.line == line);
}

TEST_CASE("bad input: malformed YAML, bad indentation", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "\n  gompertz_slope:", "\n     gompertz_slope:") + 1;
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains(copy.yaml() + ":"));
  CHECK_THAT(t.message, Contains("malformed YAML"));
  CHECK(t.line == line);
}

TEST_CASE("bad input: unknown key at the top level, with a suggestion", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "description: >-", "descripton: >-");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "descripton");
  CHECK_THAT(t.message, Contains("unknown key"));
  CHECK_THAT(t.message, Contains("did you mean 'description'"));
}

TEST_CASE("bad input: unknown nested key, with a suggestion", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line =
      copy.edit("baseline.yaml", "demography:\n", "demography:\n  life_expectancy: 81\n") + 1;
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.life_expectancy");
  CHECK_THAT(t.message, Contains("did you mean 'life_expectancy_at_birth'"));
}

TEST_CASE("bad input: text where a number is expected", "[scenario][bad]") {
  SECTION("a plain number") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "seed: 20260101", "seed: twenty");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "seed");
    CHECK_THAT(t.message, Contains("'twenty' is not a finite number"));
  }
  SECTION("the value of a parameter") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "{value: 0.105,", "{value: steep,");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.gompertz_slope.value");
    CHECK_THAT(t.message, Contains("'steep'"));
  }
}

TEST_CASE("bad input: a map where the list pension_age is expected", "[scenario][bad]") {
  ScenarioCopy copy;
  int line = 0;
  for (const char* year : {"2024", "2028", "2031", "2035", "2039", "2043"}) {
    const int l = copy.edit("baseline.yaml", std::string("    - {from_year: ") + year,
                            std::string("    y") + year + ": {from_year: " + year);
    if (line == 0) line = l;
  }
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.pension_age");
  CHECK_THAT(t.message, Contains("expected a list"));
}

TEST_CASE("bad input: a negative value", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit_line("baseline.yaml", "  total_fertility:", "  total_fertility: -1");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.total_fertility");
  CHECK_THAT(t.message, Contains("-1 is outside the valid range [0, 8]"));
}

TEST_CASE("bad input: NaN", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "{value: 31.8,", "{value: .nan,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.mean_age_at_birth.value");
  CHECK_THAT(t.message, Contains("not a finite number"));
}

TEST_CASE("bad input: infinity", "[scenario][bad]") {
  SECTION(".inf as a value") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "{value: 4.8,", "{value: .inf,");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.sd_age_at_birth.value");
    CHECK_THAT(t.message, Contains("not a finite number"));
  }
  SECTION("-inf in a range") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "range: [0.0, 0.02]", "range: [-.inf, 0.02]");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.out_migration_old.range");
    CHECK_THAT(t.message, Contains("not a finite number"));
  }
}

TEST_CASE("bad input: a share above 1", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "{value: 0.512,", "{value: 1.5,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.share_boys.value");
  CHECK_THAT(t.message, Contains("1.5 is outside the valid range [0, 1]"));
}

TEST_CASE("bad input: a range whose low is above its high", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "range: [1.3, 1.7]", "range: [1.7, 1.3]");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.total_fertility.range");
  CHECK_THAT(t.message, Contains("low is above high"));
}

TEST_CASE("bad input: a range that is not [low, high]", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "range: [30.0, 33.5]", "range: [30.0, 32.0, 33.5]");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "demography.mean_age_at_birth.range");
  CHECK_THAT(t.message, Contains("expected [low, high]"));
}

TEST_CASE("bad input: a parameter without a source", "[scenario][bad]") {
  SECTION("the source is missing") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "range: [4.0, 6.0], source: \"estimate\"}",
                               "range: [4.0, 6.0]}");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.sd_age_at_birth.source");
    CHECK_THAT(t.message, Contains("missing required key"));
  }
  SECTION("the source is empty") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "range: [4.0, 6.0], source: \"estimate\"}",
                               "range: [4.0, 6.0], source: \"\"}");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.sd_age_at_birth.source");
    CHECK_THAT(t.message, Contains("source"));
  }
}

TEST_CASE("bad input: a missing required key", "[scenario][bad]") {
  SECTION("at the top level") {
    ScenarioCopy copy;
    copy.edit("baseline.yaml", "seed: 20260101\n", "");
    const Thrown t = input_error(copy.yaml());
    // Reported at the map that lacks it: the document's first key.
    check_names(t, copy.yaml(), line_of(read_text(copy.yaml()), "\nname:") + 1, "seed");
    CHECK_THAT(t.message, Contains("missing required key"));
  }
  SECTION("in a section") {
    ScenarioCopy copy;
    const int labour = line_of(read_text(copy.yaml()), "labour:");
    copy.edit_line("baseline.yaml", "  inactivity_exit:", "");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), labour + 1, "labour.inactivity_exit");
    CHECK_THAT(t.message, Contains("missing required key"));
  }
}

TEST_CASE("bad input: a duplicate key", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "seed: 20260101\n", "seed: 20260101\nseed: 7\n") + 1;
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "seed");
  CHECK_THAT(t.message, Contains("duplicate key"));
}

TEST_CASE("bad input: a track_by_parent row whose shares do not sum to 1", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "basic: [0.15, 0.60, 0.18, 0.07]",
                             "basic: [0.15, 0.60, 0.18, 0.17]");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "education.track_by_parent.basic");
  CHECK_THAT(t.message, Contains("sum to 1.1"));
}

TEST_CASE("bad input: a bad month in period", "[scenario][bad]") {
  SECTION("not YYYY-MM") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "start: 2026-01", "start: 2026/01");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "period.start");
    CHECK_THAT(t.message, Contains("'2026/01' is not a month like 2026-01"));
  }
  SECTION("month 13") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "end: 2046-12", "end: 2046-13");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "period.end");
  }
}

TEST_CASE("bad input: the period ends before it starts", "[scenario][bad]") {
  ScenarioCopy copy;
  copy.edit("baseline.yaml", "end: 2046-12", "end: 2025-12");
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains(copy.yaml() + ":"));
  CHECK_THAT(t.message, Contains("key 'period.end'"));
  CHECK_THAT(t.message, Contains("before the start"));
  CHECK(t.line > 0);
}

TEST_CASE("bad input: a pension age that is not like 67y3m", "[scenario][bad]") {
  SECTION("67x") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "age: 67y3m", "age: 67x");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.pension_age[1].age");
    CHECK_THAT(t.message, Contains("'67x'"));
  }
  SECTION("months above 11") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "age: 67y6m", "age: 67y12m");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.pension_age[2].age");
  }
  SECTION("years that do not increase") {
    ScenarioCopy copy;
    const int line = copy.edit("baseline.yaml", "{from_year: 2035,", "{from_year: 2030,");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.yaml(), line, "demography.pension_age[3].from_year");
    CHECK_THAT(t.message, Contains("increase"));
  }
}

TEST_CASE("bad input: extends of a missing base", "[scenario][bad]") {
  TempDir dir;
  const fs::path user = dir / "user.yaml";
  write_text(user, "# a user scenario\nextends: no-such-base.yaml\nname: x\n");
  const Thrown t = input_error(user.string());
  check_names(t, user, 2, "extends");
  CHECK_THAT(t.message, Contains("no-such-base.yaml"));
  CHECK_THAT(t.message, Contains("not found"));
}

TEST_CASE("bad input: an unknown built-in or a missing scenario file", "[scenario][bad]") {
  SECTION("a misspelt built-in name") {
    const Thrown t = input_error("key-region-leidn");
    INFO("message: " << t.message);
    CHECK_THAT(t.message, Contains("key-region-leidn:"));
    CHECK_THAT(t.message, Contains("no built-in scenario"));
  }
  SECTION("a missing file") {
    TempDir dir;
    const std::string path = (dir / "missing.yaml").string();
    const Thrown t = input_error(path);
    INFO("message: " << t.message);
    CHECK_THAT(t.message, Contains(path + ":"));
    CHECK_THAT(t.message, Contains("no such scenario file"));
  }
  SECTION("a directory") {
    TempDir dir;
    const Thrown t = input_error(dir.path().string());
    INFO("message: " << t.message);
    CHECK_THAT(t.message, Contains(dir.path().string()));
  }
}

TEST_CASE("bad input: a table file named in tables: is missing", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line =
      copy.edit("baseline.yaml", "institutions: institutions.csv", "institutions: institutes.csv");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "tables.institutions");
  CHECK_THAT(t.message, Contains(copy.path("institutes.csv").string()));
}

TEST_CASE("bad input: an unknown --set key, with a suggestion", "[scenario][bad]") {
  const Thrown t = input_error(regio::k_default_scenario, {{"demography.fertility", "1.6"}});
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains("--set"));
  CHECK_THAT(t.message, Contains("key 'demography.fertility'"));
  CHECK_THAT(t.message, Contains("did you mean 'total_fertility'"));
}

TEST_CASE("bad input: a --set value that is not a number", "[scenario][bad]") {
  const Thrown t = input_error(regio::k_default_scenario, {{"demography.total_fertility", "abc"}});
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains("--set demography.total_fertility"));
  CHECK_THAT(t.message, Contains("demography.total_fertility"));
  CHECK_THAT(t.message, Contains("'abc' is not a finite number"));
}

// Tables (CSV) -----------------------------------------------------------------------------

TEST_CASE("bad input: an age_structure row whose shares do not sum to 1", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("age_structure.csv", "GM0537,0.04988,", "GM0537,0.14988,");
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message,
             Contains(copy.path("age_structure.csv").string() + ":" + std::to_string(line) + ":"));
  CHECK_THAT(t.message, Contains("key 'a0_4+a5_9+"));
  CHECK_THAT(t.message, Contains("sum to 1.1"));
  CHECK(t.line == line);
}

TEST_CASE("bad input: an education_structure row whose shares do not sum to 1", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("education_structure.csv", "GM0546,0.15,0.25,0.28,0.32,",
                             "GM0546,0.15,0.25,0.28,0.42,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("education_structure.csv"), line, "basic+mbo+hbo+wo");
  CHECK_THAT(t.message, Contains("sum to 1.1"));
}

TEST_CASE("bad input: men + women differs from inhabitants", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("municipalities.csv", "130108,62577,67531", "130108,62578,67531");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("municipalities.csv"), line, "men+women");
  CHECK_THAT(t.message, Contains("130109"));
}

TEST_CASE("bad input: an unknown zone code in a table, with a suggestion", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("zone_dynamics.csv", "GM0546,95,", "GM546,95,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("zone_dynamics.csv"), line, "code");
  CHECK_THAT(t.message, Contains("unknown zone code 'GM546'"));
  CHECK_THAT(t.message, Contains("did you mean 'GM0546'"));
}

TEST_CASE("bad input: an unknown field of education for a sector's posts", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("sectors.csv", "25,ict_data,estimate", "25,ict,estimate");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("sectors.csv"), line, "field");
  CHECK_THAT(t.message, Contains("unknown field 'ict'"));
  CHECK_THAT(t.message, Contains("ict_data"));
}

TEST_CASE("bad input: an unknown zone in the construction table", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("construction.csv", "GM0537,Valkenburg", "GM0357,Valkenburg");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("construction.csv"), line, "zone");
  CHECK_THAT(t.message, Contains("unknown zone code 'GM0357'"));
}

TEST_CASE("bad input: an unknown CSV column, with a suggestion", "[scenario][bad]") {
  ScenarioCopy copy;
  copy.edit("zone_dynamics.csv", "code,in_migration_per_1000,", "code,in_migration_per_100,");
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains(copy.path("zone_dynamics.csv").string() + ":"));
  CHECK_THAT(t.message, Contains("key 'in_migration_per_100'"));
  CHECK_THAT(t.message, Contains("unknown column"));
  CHECK_THAT(t.message, Contains("did you mean 'in_migration_per_1000'"));
}

TEST_CASE("bad input: a ragged CSV row", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("zone_dynamics.csv", "GM0547,50,90,estimate", "GM0547,50,90");
  const Thrown t = input_error(copy.yaml());
  INFO("message: " << t.message);
  CHECK_THAT(t.message,
             Contains(copy.path("zone_dynamics.csv").string() + ":" + std::to_string(line) + ":"));
  CHECK_THAT(t.message, Contains("row has 3 fields but the header has 4"));
  CHECK(t.line == line);
}

TEST_CASE("bad input: an empty source cell in a table", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("zone_dynamics.csv", "GM0626,50,80,estimate", "GM0626,50,80,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("zone_dynamics.csv"), line, "source");
  CHECK_THAT(t.message, Contains("needs a source"));
}

TEST_CASE("bad input: text in a numeric table cell", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("construction.csv", "2026,2040,5000,", "2026,2040,5k,");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("construction.csv"), line, "homes");
  CHECK_THAT(t.message, Contains("'5k' is not a finite number"));
}

TEST_CASE("bad input: a table cell out of range", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("municipalities.csv", "52.1550,4.4851", "152.1550,4.4851");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.path("municipalities.csv"), line, "lat");
  CHECK_THAT(t.message, Contains("outside the valid range [-90, 90]"));
}

// ---------------------------------------------------------------------------------------------
// Where errors point: header rows after comments, the offending key, built-in names.

// The header of a table follows its comment lines; errors about columns should point at it.
TEST_CASE("bad input: column errors name the line of the header row", "[scenario][bad]") {
  SECTION("an unknown column") {
    ScenarioCopy copy;
    const int line =
        copy.edit("zone_dynamics.csv", "code,in_migration_per_1000,", "code,in_migration_per_100,");
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.path("zone_dynamics.csv"), line, "in_migration_per_100");
  }
  SECTION("a missing column") {
    ScenarioCopy copy;
    const int line = copy.edit("education_structure.csv", "code,basic,mbo,hbo,wo,source",
                               "code,basic,mbo,hbo,wo");
    CHECK(copy.edit_all("education_structure.csv", ",estimate", "") == 7);
    const Thrown t = input_error(copy.yaml());
    check_names(t, copy.path("education_structure.csv"), line, "source");
  }
}

TEST_CASE("bad input: a misspelt built-in name gets a suggestion", "[scenario][bad]") {
  const Thrown t = input_error("key-region-leidn");
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains("did you mean 'key-region-leiden"));
}

TEST_CASE("bad input: 'end before start' names the line of period.end", "[scenario][bad]") {
  ScenarioCopy copy;
  const int line = copy.edit("baseline.yaml", "end: 2046-12", "end: 2025-12");
  const Thrown t = input_error(copy.yaml());
  check_names(t, copy.yaml(), line, "period.end");
}

TEST_CASE("bad input: a --set key with a misspelt section gets a suggestion", "[scenario][bad]") {
  const Thrown t = input_error(regio::k_default_scenario, {{"demograpy.total_fertility", "1.6"}});
  INFO("message: " << t.message);
  CHECK_THAT(t.message, Contains("demograpy"));
  CHECK_THAT(t.message, !Contains("is not a section"));
  CHECK_THAT(t.message, Contains("did you mean 'demography'"));
}
