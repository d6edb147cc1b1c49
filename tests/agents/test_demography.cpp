// Demography of the default region (key-region-leiden) run by the real Model: the initial
// synthetic population against the zone table, accounting invariants, household
// structure, birth and death rates measured from the run against the scenario's targets,
// life-course rules (retirement, students, the labour force) and determinism across
// threads, chunk sizes, seeds and replications. Inputs that may crash the process are
// built in a child process (see run_probe).
//
// Every run uses a fixed seed (the scenario's own, 20260101), so each statistical check sees
// the same numbers every time; tolerances are derived from the standard errors of the
// measured quantities (4 SE, i.e. a correct model fails a check with probability ~6e-5
// for a fresh seed).
#include <fcntl.h>
#include <oneapi/tbb/global_control.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "output/results.hpp"
#include "sim/calendar.hpp"
#include "sim/errors.hpp"
#include "sim/hazard.hpp"
#include "sim/model.hpp"
#include "sim/observer.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_loader.hpp"
#include "sim/types.hpp"

using regio::idx;
using regio::k_none;
using regio::Model;
using regio::Role;
using regio::RunConfig;
using regio::Scenario;
using regio::Sex;
using regio::Status;

extern char** environ;

namespace {

constexpr std::uint64_t k_seed = 20260101;  // the seed written in baseline.yaml

const Scenario& baseline() {
  static const Scenario s = regio::load_scenario("key-region-leiden");
  return s;
}

const Scenario& baseline_to_2030() {
  static const Scenario s = regio::load_scenario("key-region-leiden", {{"period.end", "2030-12"}});
  return s;
}

RunConfig config(double scale, std::uint64_t seed = k_seed, bool check = false) {
  RunConfig c;
  c.seed = seed;
  c.scale = scale;
  c.check_invariants = check;
  return c;
}

int age_months(const Model& m, size_t i) {
  return m.now() - m.persons.birth_month[i];
}

bool in_labour_statuses(std::uint8_t s) {
  return s == idx(Status::employed) || s == idx(Status::unemployed) || s == idx(Status::inactive);
}

/// Problems found by walking every household's member list.
struct HouseholdAudit {
  long households = 0;
  long size_mismatch = 0;       ///< list length != size
  long foreign_member = 0;      ///< a listed person whose household field points elsewhere
  long dead_member = 0;         ///< a listed person who is not alive
  long zone_mismatch = 0;       ///< a member living in another zone than the household
  long ref_birth_mismatch = 0;  ///< ref_birth is not the oldest member's birth month
  long empty_alive = 0;         ///< an alive household without members
  long unlisted_persons = 0;    ///< alive persons not found in their household's list
  long listed_twice = 0;
  long alive_persons = 0;
  long children_without_adult = 0;  ///< role child, under 18, no member aged 18+
  long minors = 0;
  std::vector<long> per_zone;  ///< alive households per zone
  std::string first_problem;

  bool structure_ok() const {
    return size_mismatch == 0 && foreign_member == 0 && dead_member == 0 && zone_mismatch == 0 &&
           ref_birth_mismatch == 0 && empty_alive == 0 && unlisted_persons == 0 &&
           listed_twice == 0;
  }
};

HouseholdAudit audit_households(const Model& m) {
  HouseholdAudit a;
  const auto& ps = m.persons;
  const auto& hh = m.households;
  a.per_zone.assign(m.municipalities.size(), 0);
  std::vector<std::uint8_t> seen(ps.size(), 0);
  auto note = [&](const std::string& what) {
    if (a.first_problem.empty()) a.first_problem = what;
  };
  for (size_t h = 0; h < hh.id.size(); ++h) {
    if (!hh.alive[h]) continue;
    ++a.households;
    ++a.per_zone[hh.zone[h]];
    long n = 0;
    std::int32_t oldest = std::numeric_limits<std::int32_t>::max();
    bool adult = false;
    std::vector<size_t> minors;
    for (std::uint32_t q = hh.first_member[h]; q != k_none && n <= 100000; ++n) {
      const std::uint32_t qi = m.person_index(q);
      if (qi == k_none || qi >= ps.size()) {
        ++a.foreign_member;
        note("household " + std::to_string(hh.id[h]) + " lists an unknown person id");
        break;
      }
      if (!ps.alive[qi]) ++a.dead_member, note("dead member in " + std::to_string(hh.id[h]));
      if (ps.household[qi] != hh.id[h]) ++a.foreign_member;
      if (ps.zone[qi] != hh.zone[h]) ++a.zone_mismatch;
      if (seen[qi]++) ++a.listed_twice;
      oldest = std::min(oldest, ps.birth_month[qi]);
      const int age = age_months(m, qi) / 12;
      if (age >= 18) adult = true;
      if (ps.role[qi] == idx(Role::child) && age < 18) minors.push_back(qi);
      q = ps.next_member[qi];
    }
    if (n == 0) ++a.empty_alive;
    if (n != hh.size[h]) {
      ++a.size_mismatch;
      note("household " + std::to_string(hh.id[h]) + ": size " + std::to_string(hh.size[h]) +
           ", list of " + std::to_string(n));
    }
    if (n > 0 && oldest != hh.ref_birth[h]) ++a.ref_birth_mismatch;
    a.minors += static_cast<long>(minors.size());
    if (!adult) a.children_without_adult += static_cast<long>(minors.size());
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps.alive[i]) continue;
    ++a.alive_persons;
    if (!seen[i]) ++a.unlisted_persons;
  }
  return a;
}

/// Births and deaths of a run, measured person by person. Before each step every alive
/// person contributes one person-month of exposure at their age; the events that the step
/// will execute are read from the person's schedule (the step acts on persons whose
/// next_due is this month). After the step the predicted events are compared with the
/// model's own series, so the measurement is exactly what the model did.
struct Vital {
  static constexpr int k_years = 121;
  std::array<double, k_years> exposure{};  ///< person-months by age in years
  std::array<double, k_years> deaths{};
  std::array<double, k_years> expected_deaths{};  ///< sum of 1 - exp(-hazard) per month
  std::array<double, k_years> woman_months{};
  std::array<double, k_years> births{};  ///< by the mother's age
  std::array<double, k_years> expected_births{};
  double series_births = 0, series_deaths = 0;
  long months_with_mismatch = 0;
};

Vital run_and_measure(Model& m) {
  Vital v;
  const auto& ps = m.persons;
  // Monthly event probabilities by age in months, 1 - exp(-hazard).
  std::vector<double> q_death(12 * Vital::k_years + 1), q_birth(q_death.size());
  for (size_t a = 0; a < q_death.size(); ++a) {
    q_death[a] = -std::expm1(-m.schedules.mortality.hazard(static_cast<int>(a)));
    q_birth[a] = -std::expm1(-m.schedules.fertility.hazard(static_cast<int>(a)));
  }
  const size_t zones = m.municipalities.size();
  while (!m.finished()) {
    const std::int32_t now = m.now();
    double births = 0, deaths = 0;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (!ps.alive[i]) continue;
      const int a = std::min(now - ps.birth_month[i], 12 * Vital::k_years);
      const int y = std::min(a / 12, Vital::k_years - 1);
      const bool acts = ps.next_due[i] == now;
      v.exposure[y] += 1;
      v.expected_deaths[y] += q_death[static_cast<size_t>(a)];
      const bool dies = acts && ps.death[i] == now;
      if (dies) v.deaths[y] += 1, deaths += 1;
      if (ps.sex[i] == idx(Sex::female)) {
        v.woman_months[y] += 1;
        v.expected_births[y] += q_birth[static_cast<size_t>(a)];
        if (acts && !dies && ps.next_birth[i] == now) v.births[y] += 1, births += 1;
      }
    }
    m.step();
    double sb = 0, sd = 0;
    const size_t row = m.series.births.size() - zones;
    for (size_t z = 0; z < zones; ++z)
      sb += m.series.births[row + z], sd += m.series.deaths[row + z];
    v.series_births += sb, v.series_deaths += sd;
    if (sb != births || sd != deaths) ++v.months_with_mismatch;
  }
  return v;
}

/// Life expectancy at birth of monthly death probabilities constant within each year of
/// age (death at mid-month, as in regio::life_expectancy).
double e0_of(const std::vector<double>& q_month) {
  double alive = 1.0, expected = 0.0;
  for (size_t y = 0; y < q_month.size() && alive > 0.0; ++y) {
    for (int k = 0; k < 12; ++k) {
      const double die = alive * q_month[y];
      expected += die * (12.0 * static_cast<double>(y) + k + 0.5) / 12.0;
      alive -= die;
    }
  }
  return expected +
         alive * static_cast<double>(q_month.size());  // survivors (none: q=1 at the end)
}

/// The dataset values of a run, by path.
std::map<std::string, std::vector<double>> datasets_of(const Model& m) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& d : regio::observer::to_results(m).datasets) out[d.path] = d.values;
  return out;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

std::map<std::string, std::vector<double>> run_to_2030(double scale, std::uint64_t seed,
                                                       std::uint32_t replication, size_t chunk,
                                                       int threads) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<size_t>(threads));
  RunConfig c = config(scale, seed);
  c.replication = replication;
  c.chunk_size = chunk;
  Model m(baseline_to_2030(), c);
  m.run();
  return datasets_of(m);
}

/// Unemployment among the labour force and participation by education, checked against
/// the scenario. Participation counts adults 25-59 outside school and retirement (the
/// initial population lowers it for ages 60+ and under 20, so those are left out); its SE
/// for a share p among n persons is sqrt(p(1-p)/n), and the tolerance is 4 SE plus 0.01 for
/// the discreteness of the flows that keep it stationary.
void check_labour_rates(const Model& m, const char* when, double low = 0.03, double high = 0.05) {
  INFO(when);
  const auto& lab = m.scenario().labour;
  const auto& ps = m.persons;
  double employed = 0, unemployed = 0;
  std::array<double, regio::k_education_levels> active{}, all{};
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps.alive[i]) continue;
    const auto s = ps.status[i];
    if (s == idx(Status::employed)) ++employed;
    if (s == idx(Status::unemployed)) ++unemployed;
    const int age = age_months(m, i) / 12;
    if (age >= 25 && age < 60 && in_labour_statuses(s)) {
      all[ps.education[i]] += 1;
      if (s != idx(Status::inactive)) active[ps.education[i]] += 1;
    }
  }
  // At the start the scenario's unemployment rate (3.7 %) applies, band [3 %, 5 %];
  // later the labour market sets it (see the caller's band).
  const double rate = unemployed / (employed + unemployed);
  INFO("unemployment " << rate << " of a labour force of " << employed + unemployed);
  CHECK(rate >= low);
  CHECK(rate <= high);
  for (int e = 0; e < regio::k_education_levels; ++e) {
    const double p = lab.participation[static_cast<size_t>(e)];
    REQUIRE(all[e] > 1000);
    INFO("education " << e << ": participation " << active[e] / all[e] << ", target " << p
                      << ", persons " << all[e]);
    CHECK(active[e] / all[e] == Approx(p).margin(4 * std::sqrt(p * (1 - p) / all[e]) + 0.01));
  }
}

/// Life-course rules on one date, for every alive person whose schedule is live (next_due
/// not in the past; see also "No agent is left with a scheduled event in the past").
struct LifeCourseScan {
  long retired_early = 0;  ///< retired before their pension month
  long working_late = 0;   ///< employed/unemployed/inactive after their pension month
  long students = 0, students_out_of_age = 0;
  int student_min = 1000, student_max = 0;

  void scan(const Model& m) {
    const auto& ps = m.persons;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (!ps.alive[i] || ps.next_due[i] < m.now()) continue;
      const std::int32_t r = regio::persons::retirement_month(m, ps.birth_month[i]);
      // The retirement event fires in the step of month r, after which now() is r + 1.
      if (ps.status[i] == idx(Status::retired) && r > m.now()) ++retired_early;
      if (in_labour_statuses(ps.status[i]) && r < m.now()) ++working_late;
      if (ps.status[i] == idx(Status::student)) {
        const int age = age_months(m, i) / 12;
        ++students;
        student_min = std::min(student_min, age), student_max = std::max(student_max, age);
        if (age < 16 || age > 35) ++students_out_of_age;
      }
    }
  }
};

// Building a population can crash the process (not only throw), so such cases run in a
// child process: this test binary itself, running only the hidden probe test case below
// with its parameters in the environment. Returns a description of how the child ended
// ("" when it passed).
std::string run_probe(const std::string& scenario, double scale, std::uint64_t seed) {
  ::setenv("REGIO_PROBE_SCENARIO", scenario.c_str(), 1);
  ::setenv("REGIO_PROBE_SCALE", std::to_string(scale).c_str(), 1);
  ::setenv("REGIO_PROBE_SEED", std::to_string(seed).c_str(), 1);
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string name = "Probe: build and run the population given in the environment";
  char* argv[] = {const_cast<char*>(exe.c_str()), name.data(), nullptr};
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &quiet, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&quiet);
  ::unsetenv("REGIO_PROBE_SCENARIO");
  if (rc != 0) return "could not start the probe process";
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return "lost the probe process";
  if (WIFSIGNALED(status))
    return "the process was killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return std::to_string(WEXITSTATUS(status)) + " failed assertions in the probe";
  return "";
}

/// A fresh temporary directory, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path =
        std::filesystem::temp_directory_path() /
        ("regio-test-demography-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("Probe: build and run the population given in the environment", "[.probe]") {
  // Run only by run_probe(). Building must either reject the input (InputError) or give a
  // consistent population, which must then survive a year with invariant checks.
  const char* spec = std::getenv("REGIO_PROBE_SCENARIO");
  REQUIRE(spec != nullptr);
  const double scale = std::atof(std::getenv("REGIO_PROBE_SCALE"));
  const auto seed = std::strtoull(std::getenv("REGIO_PROBE_SEED"), nullptr, 10);
  try {
    const Scenario s = regio::load_scenario(spec);
    RunConfig c = config(scale, seed, true);
    c.until_year = s.start.year();
    Model m(s, c);
    const HouseholdAudit a = audit_households(m);
    CHECK(a.structure_ok());
    for (size_t z = 0; z < s.zones.size(); ++z)
      CHECK(m.municipalities[z].persons ==
            std::llround(static_cast<double>(s.zones[z].inhabitants) * scale));
    CHECK_NOTHROW(m.run());
  } catch (const regio::InputError&) {
    SUCCEED("the scenario was rejected as input");
  }
}

// ---------------------------------------------------------------------------------------
// (1) The initial population

TEST_CASE("Initial population at scale 1 matches the CBS zone table exactly",
          "[demography][initial]") {
  const Scenario& sc = baseline();
  const Model m(sc, config(1.0));
  const size_t zones = sc.zones.size();
  REQUIRE(zones == 7);
  REQUIRE(m.municipalities.size() == zones);
  std::vector<long> persons(zones, 0), women(zones, 0), men(zones, 0);
  for (size_t i = 0; i < m.persons.size(); ++i) {
    REQUIRE(m.persons.alive[i]);
    const size_t z = m.persons.zone[i];
    ++persons[z];
    ++(m.persons.sex[i] == idx(Sex::female) ? women : men)[z];
  }
  const HouseholdAudit a = audit_households(m);
  long total = 0;
  for (size_t z = 0; z < zones; ++z) {
    const auto& zs = sc.zones[z];
    INFO(zs.name);
    CHECK(persons[z] == zs.inhabitants);
    CHECK(m.municipalities[z].persons == zs.inhabitants);
    CHECK(women[z] == zs.women);
    CHECK(men[z] == zs.men);
    // Households: dwellings x occupancy, exactly (the clamp to [1, adults] does not bind
    // at full scale).
    const long want = std::lround(static_cast<double>(zs.dwellings) * sc.demography.occupancy);
    CHECK(m.municipalities[z].households == want);
    CHECK(a.per_zone[z] == want);
    // The 1 January snapshot in the series says the same.
    CHECK(m.series.by_sex.at(z * 2 + idx(Sex::male)) == zs.men);
    CHECK(m.series.by_sex.at(z * 2 + idx(Sex::female)) == zs.women);
    total += zs.inhabitants;
  }
  CHECK(total == 331849);  // the region's CBS total on 1 January 2024 (README)
  CHECK(sc.zones[1].name == "Leiden");
  CHECK(sc.zones[1].inhabitants == 130108);
  CHECK(a.structure_ok());
  CHECK(a.alive_persons == total);
  CHECK(a.children_without_adult == 0);
}

TEST_CASE("Initial population at reduced scale: rounded totals and households",
          "[demography][initial]") {
  const Scenario& sc = baseline();
  for (double scale : {0.1, 0.25, 0.013}) {
    INFO("scale " << scale);
    const Model m(sc, config(scale));
    const size_t zones = sc.zones.size();
    std::vector<long> persons(zones, 0), women(zones, 0), adults(zones, 0);
    for (size_t i = 0; i < m.persons.size(); ++i) {
      const size_t z = m.persons.zone[i];
      ++persons[z];
      if (m.persons.sex[i] == idx(Sex::female)) ++women[z];
      if (m.persons.role[i] != idx(Role::child)) ++adults[z];
    }
    const HouseholdAudit a = audit_households(m);
    CHECK(a.structure_ok());
    for (size_t z = 0; z < zones; ++z) {
      const auto& zs = sc.zones[z];
      INFO(zs.name);
      const long want = std::llround(static_cast<double>(zs.inhabitants) * scale);
      CHECK(persons[z] == want);
      CHECK(m.municipalities[z].persons == want);
      // Women are rounded on their own; men are the rest, so they may differ by one from
      // rounding men x scale (e.g. 6697 - 3369 = 3328 against 3327.3 for Katwijk at 0.1).
      CHECK(women[z] == std::llround(static_cast<double>(zs.women) * scale));
      const long men = persons[z] - women[z];
      CHECK(std::abs(men - std::llround(static_cast<double>(zs.men) * scale)) <= 1);
      // Households: round(dwellings x scale x occupancy), clamped to [1, independent adults].
      const long target =
          std::llround(static_cast<double>(zs.dwellings) * scale * sc.demography.occupancy);
      CHECK(m.municipalities[z].households == std::clamp(target, 1L, adults[z]));
      CHECK(a.per_zone[z] == m.municipalities[z].households);
    }
  }
}

TEST_CASE("Labour-force rates at the start match the scenario (scale 1)",
          "[demography][initial][labour]") {
  const Model m(baseline(), config(1.0));
  check_labour_rates(m, "1 January 2026 (scale 1)");
  LifeCourseScan life;
  life.scan(m);
  CHECK(life.retired_early == 0);
  CHECK(life.working_late == 0);
  CHECK(life.students_out_of_age == 0);
}

TEST_CASE("A zone with many inhabitants per dwelling is built or rejected without a crash",
          "[demography][initial]") {
  // build_zone forms min(adults - households, adults / 2) couples, each in a household of
  // its own; with more than about 2.7 inhabitants per dwelling that exceeds the number of
  // households, `singles = rest.size() - extras` wraps around (size_t) and the process
  // crashes. Real municipalities reach 3 or more (e.g. Urk). Here Zoeterwoude keeps its
  // 9,732 inhabitants with 3,000 instead of 4,142 dwellings (3.2 per dwelling).
  TempDir dir;
  std::string table = regio::read_scenario_file("builtin:key-region-leiden/municipalities.csv");
  const std::string row = "GM0638,Zoeterwoude,9732,4834,4898,4142,";
  const size_t at = table.find(row);
  REQUIRE(at != std::string::npos);
  table.replace(at, row.size(), "GM0638,Zoeterwoude,9732,4834,4898,3000,");
  std::ofstream(dir.path / "municipalities.csv") << table;
  std::ofstream(dir.path / "crowded.yaml") << "extends: key-region-leiden\n"
                                              "name: crowded\n"
                                              "tables:\n"
                                              "  municipalities: municipalities.csv\n";
  const std::string yaml = (dir.path / "crowded.yaml").string();
  REQUIRE(regio::load_scenario(yaml).zones.at(6).dwellings == 3000);
  const std::string outcome = run_probe(yaml, 0.25, k_seed);
  INFO(outcome);
  CHECK(outcome.empty());
}

TEST_CASE("A tiny sample (scale 0.001) is built without crashing", "[demography][initial]") {
  // The same wrap-around: at scale 0.001 a zone has 10 to 130 inhabitants (Zoeterwoude: 10
  // in 4 households), and a draw with more than twice as many independent adults as
  // households forms more couples than households (`regio run --scale 0.001 --seed 1`
  // crashes). Seed 0 happens to be fine; seeds 1 and 2 are not.
  for (std::uint64_t seed : {0, 1, 2}) {
    const std::string outcome = run_probe("key-region-leiden", 0.001, seed);
    INFO("seed " << seed << ": " << outcome);
    CHECK(outcome.empty());
  }
}

// ---------------------------------------------------------------------------------------
// (2) Accounting invariants and household structure over a whole run

/// Residents per zone by status and aged 15-64, counted person by person as of `month`,
/// against the counts the model keeps (Model::count_statuses); the number of mismatching
/// cells.
long status_count_mismatches(const Model& m, std::int32_t month) {
  const size_t zones = m.municipalities.size();
  std::vector<std::array<std::int64_t, regio::k_statuses>> count(zones);
  std::vector<std::int64_t> working(zones, 0);
  const auto& ps = m.persons;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps.alive[i]) continue;
    ++count[ps.zone[i]][ps.status[i]];
    const int age = (month - ps.birth_month[i]) / 12;
    if (age >= 15 && age < 65) ++working[ps.zone[i]];
  }
  long bad = 0;
  for (size_t z = 0; z < zones; ++z) {
    for (int s = 0; s < regio::k_statuses; ++s)
      if (count[z][s] != m.municipalities[z].status_count[s]) ++bad;
    if (working[z] != m.municipalities[z].working_age) ++bad;
  }
  return bad;
}

TEST_CASE("A full run at scale 0.1 keeps accounting and households and life-course rules",
          "[demography][invariants][lifecourse]") {
  // One run of 2026-2046 at scale 0.1 carries several checks (a run costs seconds):
  //  * check_invariants makes every step recount persons and households per zone and check
  //    stock = previous + births + in-migrants - deaths - out-migrants, and the residents
  //    by status and of working age against the counts the model keeps current at every
  //    change (InvariantError);
  //  * every household's member list is walked after every December;
  //  * on every 1 January: nobody is retired before the pension month or in the labour
  //    force after it, and students are aged 16-35;
  //  * after every step, the counts by zone, status and working age the model keeps
  //    equal a count person by person.
  Model m(baseline(), config(0.1, k_seed, true));
  REQUIRE(m.scenario().start == regio::Month::of(2026, 1));
  REQUIRE(m.scenario().end == regio::Month::of(2046, 12));
  const HouseholdAudit first = audit_households(m);
  CHECK(first.structure_ok());
  int audits = 0;
  bool lists_ok = true;
  std::string problem;
  LifeCourseScan life;
  life.scan(m);
  long status_mismatches = 0;
  while (!m.finished()) {
    REQUIRE_NOTHROW(m.step());
    // Counted in the goods-market phase of the month just ended; nothing after it in the
    // step changes a status, a zone or who is alive.
    status_mismatches += status_count_mismatches(m, m.now() - 1);
    if (m.now() % 12 == 0 || m.finished()) {  // after every December (and the last step)
      life.scan(m);
      const HouseholdAudit a = audit_households(m);
      ++audits;
      if (!a.structure_ok() && lists_ok) {
        lists_ok = false;
        problem = regio::Month{m.now() - 1}.str() + ": " + a.first_problem;
      }
      for (size_t z = 0; z < m.municipalities.size(); ++z)
        if (a.per_zone[z] != m.municipalities[z].households) lists_ok = false;
    }
  }
  INFO(problem);
  CHECK(lists_ok);
  CHECK(status_mismatches == 0);
  CHECK(audits == 21);
  CHECK(m.months_total() == 252);

  // The recorded series obey the same identity month by month (the check above is on the
  // running counters; this is on what is written out).
  const auto& s = m.series;
  const size_t zones = m.municipalities.size();
  REQUIRE(s.months.size() == 252);
  REQUIRE(s.population.size() == 252 * zones);
  long bad = 0;
  for (size_t t = 0; t < 252; ++t) {
    for (size_t z = 0; z < zones; ++z) {
      const size_t k = t * zones + z;
      const double before =
          t == 0 ? std::llround(static_cast<double>(m.scenario().zones[z].inhabitants) * 0.1)
                 : s.population[k - zones];
      if (s.population[k] !=
          before + s.births[k] + s.in_migrants[k] - s.deaths[k] - s.out_migrants[k])
        ++bad;
    }
  }
  CHECK(bad == 0);
  CHECK(s.dates.size() == 22);  // 2026-01-01 .. 2047-01-01
  CHECK(s.years.size() == 21);
  // Snapshots count everybody: the 1 January totals equal December's population.
  const size_t cells = zones * regio::k_age_groups * regio::k_statuses;
  for (size_t d = 1; d < s.dates.size(); ++d) {
    double snap = 0, pop = 0;
    for (size_t k = 0; k < cells; ++k) snap += s.by_age_status[d * cells + k];
    for (size_t z = 0; z < zones; ++z) pop += s.population[(12 * d - 1) * zones + z];
    CHECK(snap == pop);
  }

  {
    INFO("students aged " << life.student_min << " to " << life.student_max);
    CHECK(life.retired_early == 0);
    CHECK(life.working_late == 0);
    CHECK(life.students > 1000);
    CHECK(life.students_out_of_age == 0);
  }
}

TEST_CASE("Labour-force rates at the end of a full run stay plausible (scale 0.1)",
          "[demography][labour]") {
  // After the start, unemployment comes from the labour market, not from the scenario's
  // rate: the band is the range Dutch unemployment has taken since 2000 (3.5-7.8 %),
  // widened by a point on each side for the sampling noise of a 10 % sample.
  Model m(baseline(), config(0.1));
  m.run();
  check_labour_rates(m, "end of 2046 (scale 0.1)", 0.025, 0.088);
}

TEST_CASE("Every child under 18 lives in a household with an adult", "[demography][households]") {
  // Holds at the start. During the run, children are left without any member aged 18+
  // when their only adult dies (nothing re-houses them), when a student parent graduates
  // and leaves the region alone (persons::graduate -> emigrants, removed person by person
  // in the commit), when a parent who does not head the household (e.g. a widowed
  // partner) forms a couple and moves in with the new partner alone (form_unions moves a
  // whole household only with its head), or when an adult sibling leaves home from a
  // household whose parents are gone.
  RunConfig c = config(0.1);
  c.until_year = 2036;
  Model m(baseline(), c);
  CHECK(audit_households(m).children_without_adult == 0);
  m.run();
  const HouseholdAudit a = audit_households(m);
  INFO(a.children_without_adult << " of " << a.minors
                                << " children under 18 live without an adult");
  CHECK(a.children_without_adult == 0);
}

// ---------------------------------------------------------------------------------------
// (3) Birth and death rates against the scenario's targets

TEST_CASE("Fertility and mortality measured from a run match the schedules and targets",
          "[demography][stats]") {
  // The whole region at scale 1, 2026-2031: about 20,000 births and 18,000 deaths.
  RunConfig c = config(1.0);
  c.until_year = 2031;
  Model m(baseline(), c);
  const double tfr_target = m.scenario().demography.total_fertility;
  const double e0_target = m.scenario().demography.life_expectancy_at_birth;
  REQUIRE(tfr_target == 1.45);
  REQUIRE(e0_target == 82.0);
  const Vital v = run_and_measure(m);

  // The measurement is the model's own: predicted events equal the recorded series.
  CHECK(v.months_with_mismatch == 0);
  const double births = std::accumulate(v.births.begin(), v.births.end(), 0.0);
  const double deaths = std::accumulate(v.deaths.begin(), v.deaths.end(), 0.0);
  CHECK(births == v.series_births);
  CHECK(deaths == v.series_deaths);
  REQUIRE(births > 15000);
  REQUIRE(deaths > 15000);

  {  // Period TFR from births per woman-year, ages 15-49.
    // TFR = sum over single years of age of births / woman-years. Births are Poisson given
    // the exposure, so Var(TFR) = sum births_a / (woman-years_a)^2.
    double tfr = 0, var = 0, tfr_expected = 0;
    for (int a = 15; a < 50; ++a) {
      const double wy = v.woman_months[a] / 12.0;
      REQUIRE(wy > 500);
      tfr += v.births[a] / wy;
      var += v.births[a] / (wy * wy);
      tfr_expected += v.expected_births[a] / wy;
    }
    CHECK(v.births[14] == 0);
    CHECK(v.births[50] == 0);
    const double se = std::sqrt(var);
    INFO("TFR " << tfr << " (SE " << se << "), expected from the schedule " << tfr_expected);
    REQUIRE(se < 0.015);
    // Against the schedule actually applied, given the ages of the women: 4 SE.
    CHECK(tfr == Approx(tfr_expected).margin(4 * se));
    // Against the scenario's 1.45: a monthly hazard h gives at most one birth a month with
    // probability 1 - exp(-h) < h, which lowers the period TFR by about 0.4 % (0.007);
    // that bias is part of the tolerance.
    CHECK(tfr == Approx(tfr_target).margin(4 * se + std::abs(tfr_target - tfr_expected)));
    CHECK(std::abs(tfr_target - tfr_expected) < 0.01);
  }

  {  // Deaths by age against the mortality schedule.
    // Observed against expected deaths (sum of monthly death probabilities over the
    // person-months at risk). Deaths are a sum of independent Bernoulli trials, so
    // SD(O) <= sqrt(E); 4 SD per age group.
    const std::vector<std::pair<int, int>> groups = {
        {0, 50}, {50, 65}, {65, 80}, {80, 90}, {90, 121}};
    for (const auto& [lo, hi] : groups) {
      double o = 0, e = 0;
      for (int a = lo; a < hi; ++a) o += v.deaths[a], e += v.expected_deaths[a];
      INFO("ages " << lo << "-" << hi - 1 << ": observed " << o << ", expected " << e);
      CHECK(o == Approx(e).margin(4 * std::sqrt(e) + 1));
    }
  }

  {  // Life expectancy at birth from the period life table.
    // Monthly death probability per year of age q_a = deaths_a / person-months_a (the
    // schedule where nobody was at risk); e0 as in regio::life_expectancy. Its SE is by the
    // delta method with Var(q_a) = q_a (1 - q_a) / person-months_a.
    const auto& mort = m.schedules.mortality;
    std::vector<double> q(Vital::k_years - 10), q_model(q.size());
    for (size_t a = 0; a < q.size(); ++a) {
      double sched = 0;
      for (int k = 0; k < 12; ++k) sched += -std::expm1(-mort.hazard(static_cast<int>(12 * a) + k));
      sched /= 12;
      const bool observed = v.exposure[a] >= 1;
      q[a] = observed ? v.deaths[a] / v.exposure[a] : sched;
      q_model[a] = observed ? v.expected_deaths[a] / v.exposure[a] : sched;
    }
    q.back() = q_model.back() = 1.0;  // nobody passes 110
    const double e0 = e0_of(q), e0_model = e0_of(q_model);
    double var = 0;
    for (size_t a = 0; a + 1 < q.size(); ++a) {
      if (v.exposure[a] < 1) continue;
      auto bumped = q;
      const double dq = 1e-7;
      bumped[a] += dq;
      const double grad = (e0_of(bumped) - e0) / dq;
      var += grad * grad * q[a] * (1 - q[a]) / v.exposure[a];
    }
    const double se = std::sqrt(var);
    INFO("e0 " << e0 << " (SE " << se << "); from the schedule at the same ages " << e0_model);
    REQUIRE(se < 0.15);
    CHECK(e0 == Approx(e0_model).margin(4 * se));
    // Averaging the hazard within each year of age moves e0 by a few hundredths at most.
    CHECK(e0_model == Approx(e0_target).margin(0.05));
    CHECK(e0 == Approx(e0_target).margin(4 * se + 0.05));
  }
}

TEST_CASE("A synthetic cohort under the model's mortality schedule lives 82 years",
          "[demography][stats]") {
  // Ages at death drawn exactly as the model draws them (mortality stream, person id,
  // birth month). SD of the age at death ~12 years; 10^6 persons give SE 0.012, so 4 SE
  // is 0.05 (well inside the brief's 82 +- 0.3).
  const Model m(baseline(), config(0.01));
  const std::int32_t born = m.first_month();
  constexpr int n = 1'000'000;
  double sum = 0, sum2 = 0;
  for (int id = 0; id < n; ++id) {
    regio::Rng rng = m.rng(regio::Stream::mortality, static_cast<std::uint64_t>(id), born);
    const std::int32_t at = m.schedules.mortality.sample(0, rng.uniform());
    REQUIRE(at != regio::k_never);
    const double age = (at + 0.5) / 12.0;
    sum += age, sum2 += age * age;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  INFO("mean age at death " << mean << ", SD " << sd);
  CHECK(mean == Approx(82.0).margin(4 * sd / std::sqrt(n) + 0.01));
  CHECK(mean == Approx(82.0).margin(0.3));
}

// ---------------------------------------------------------------------------------------
// Life-course rules

TEST_CASE("No agent is left with a scheduled event in the past", "[demography][lifecourse]") {
  // Agents act only in the month equal to their next_due (households: next_move). An event
  // scheduled for a month whose step has already run is never executed, and since
  // next_due is the minimum of all events the agent is frozen for good (never dies, never
  // retires or graduates). Two ways this happens:
  //  * persons::choose_track at 16 sets the mbo start to september_at_age(birth, 16), which
  //    is the current month for a child born in September: the child stays a "child"
  //    forever (status child at 19+ below);
  //  * persons and households created in the commit phase (in-migrants, students moving
  //    in, new households) are scheduled with schedule_person/schedule_move(now) after the
  //    persons/households phase of `now` has run, so an event drawn for `now` is lost.
  RunConfig c = config(0.1);
  c.until_year = 2036;
  Model m(baseline(), c);
  long overdue_persons = 0, overdue_households = 0, old_children = 0;
  while (!m.finished()) {
    m.step();
    const std::int32_t now = m.now();
    for (size_t i = 0; i < m.persons.size(); ++i)
      if (m.persons.alive[i] && m.persons.next_due[i] < now) ++overdue_persons;
    for (size_t h = 0; h < m.households.id.size(); ++h)
      if (m.households.alive[h] && m.households.next_move[h] < now) ++overdue_households;
  }
  for (size_t i = 0; i < m.persons.size(); ++i)
    if (m.persons.alive[i] && m.persons.status[i] == idx(Status::child) &&
        age_months(m, i) >= 19 * 12)
      ++old_children;
  INFO("person-months overdue " << overdue_persons << ", household-months overdue "
                                << overdue_households << "; at the end: status child at 19+ "
                                << old_children);
  CHECK(overdue_persons == 0);
  CHECK(overdue_households == 0);
  CHECK(old_children == 0);
}

TEST_CASE("The state pension age is the one of the year it is reached",
          "[demography][lifecourse]") {
  // Reference rule: the first month t in which the person's age is at least the pension
  // age in force in year(t) (README: "people retire at the state pension age of the year
  // they reach it"). persons::retirement_month walks the steps and lets a later step
  // override an earlier one whenever its own month falls in its year, so someone born in
  // October-December 1960, who is 67 in late 2027 when the pension age is 67, is moved to
  // 67y3m in 2028.
  const Model m(baseline(), config(0.01));
  const auto& steps = m.scenario().demography.pension;
  REQUIRE(!steps.empty());
  auto pension_age_in = [&](int year) {
    int age = steps.front().age_months;
    for (const auto& s : steps)
      if (year >= s.from_year) age = s.age_months;
    return age;
  };
  long mismatches = 0;
  std::string first;
  for (std::int32_t birth = regio::Month::of(1950, 1).index;
       birth < regio::Month::of(1990, 1).index; ++birth) {
    std::int32_t t = birth + 60 * 12;
    while (t - birth < pension_age_in(t / 12)) ++t;
    const std::int32_t got = regio::persons::retirement_month(m, birth);
    if (got != t) {
      if (mismatches++ == 0)
        first = "born " + regio::Month{birth}.str() + ": retires " + regio::Month{got}.str() +
                ", expected " + regio::Month{t}.str();
    }
  }
  INFO(mismatches << " birth months differ; first: " << first);
  CHECK(mismatches == 0);
}

TEST_CASE("Retirement months are monotone in the birth month and within the table",
          "[demography][lifecourse]") {
  const Model m(baseline(), config(0.01));
  const auto& steps = m.scenario().demography.pension;
  const int youngest = std::min_element(steps.begin(), steps.end(), [](auto& a, auto& b) {
                         return a.age_months < b.age_months;
                       })->age_months;
  const int oldest = std::max_element(steps.begin(), steps.end(), [](auto& a, auto& b) {
                       return a.age_months < b.age_months;
                     })->age_months;
  std::int32_t prev = std::numeric_limits<std::int32_t>::min();
  for (std::int32_t birth = regio::Month::of(1940, 1).index;
       birth < regio::Month::of(2010, 1).index; ++birth) {
    const std::int32_t r = regio::persons::retirement_month(m, birth);
    INFO("born " << regio::Month{birth}.str());
    CHECK(r >= prev);
    CHECK(r - birth >= youngest);
    CHECK(r - birth <= oldest);
    prev = r;
  }
  // Those reaching 67 in 2026-2027 retire at 67 (Rijksoverheid), 67y3m in 2028.
  CHECK(regio::persons::retirement_month(m, regio::Month::of(1959, 5).index) ==
        regio::Month::of(2026, 5).index);
  CHECK(regio::persons::retirement_month(m, regio::Month::of(1961, 1).index) ==
        regio::Month::of(2028, 4).index);
}

// ---------------------------------------------------------------------------------------
// (4) Determinism

TEST_CASE("Jobs released together end as if released one by one", "[demography][jobs]") {
  // firms::release_residents splits its list by employer and releases the groups in
  // parallel; the staff lists (their order too), the workers' slots and the employment
  // counters must end as after releasing the list in order, one by one.
  RunConfig c = config(0.05);
  c.until_year = 2026;
  Model one(baseline(), c), batch(baseline(), c);
  std::vector<std::uint32_t> list;
  const auto& ps = one.persons;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps.alive[i] && (ps.job_zone[i] != regio::PersonStore::k_no_job_zone || i % 50 == 0) &&
        i % 3 != 0)
      list.push_back(static_cast<std::uint32_t>(i));
  // Not in index order, and some persons twice (the second release finds no job).
  std::reverse(list.begin() + static_cast<long>(list.size() / 2), list.end());
  for (size_t k = 0; k < list.size(); k += 97) list.push_back(list[k]);
  REQUIRE(list.size() > 1000);
  const auto staff_before = one.firms.staff;
  for (std::uint32_t p : list) regio::firms::release(one, p, false);
  regio::firms::release_residents(batch, list);
  CHECK(one.firms.staff != staff_before);
  CHECK(one.firms.staff == batch.firms.staff);
  CHECK(one.firms.employees == batch.firms.employees);
  CHECK(one.persons.employer == batch.persons.employer);
  CHECK(one.persons.job_zone == batch.persons.job_zone);
  CHECK(one.persons.job_slot == batch.persons.job_slot);
  CHECK(one.outside_workers.job_slot == batch.outside_workers.job_slot);
  for (size_t z = 0; z < one.municipalities.size(); ++z) {
    INFO("zone " << z);
    CHECK(one.municipalities[z].employed_by == batch.municipalities[z].employed_by);
    CHECK(one.municipalities[z].out_commuters == batch.municipalities[z].out_commuters);
    CHECK(one.municipalities[z].jobs_by_zone == batch.municipalities[z].jobs_by_zone);
  }
}

TEST_CASE("Results are bit-identical across thread counts and chunk sizes",
          "[demography][determinism]") {
  const auto reference = run_to_2030(0.1, k_seed, 0, 8192, 1);
  REQUIRE(reference.size() >= 20);
  REQUIRE(reference.count("/demography/population"));
  CHECK(reference.at("/demography/population").size() == 60 * 7);
  for (const auto& [threads, chunk] :
       std::vector<std::pair<int, size_t>>{{2, 8192}, {8, 8192}, {1, 1024}, {8, 1024}, {2, 333}}) {
    const auto other = run_to_2030(0.1, k_seed, 0, chunk, threads);
    INFO(threads << " threads, chunks of " << chunk);
    REQUIRE(other.size() == reference.size());
    for (const auto& [path, values] : reference) {
      INFO(path);
      REQUIRE(other.count(path));
      CHECK(bitwise_equal(values, other.at(path)));
    }
  }
}

TEST_CASE("run() overlaps each month's order flow with the next month and changes no result",
          "[demography][determinism]") {
  // Model::run leaves a month's supply-chain orders to run alongside the next month's
  // commit, and runs the quarterly rewiring beside the goods market; step() runs every
  // phase in turn. Both must give the same results, bit for bit.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
  RunConfig c = config(0.05, k_seed);
  Model overlapped(baseline_to_2030(), c), stepped(baseline_to_2030(), c);
  overlapped.run();
  while (!stepped.finished()) stepped.step();
  CHECK(overlapped.order_flow_seconds > 0.0);  // the overlapped path ran
  CHECK(stepped.order_flow_seconds == 0.0);
  const auto a = datasets_of(overlapped), b = datasets_of(stepped);
  REQUIRE(a.size() == b.size());
  for (const auto& [path, values] : a) {
    INFO(path);
    REQUIRE(b.count(path));
    CHECK(bitwise_equal(values, b.at(path)));
  }
  CHECK(overlapped.firms.order_demand == stepped.firms.order_demand);
}

TEST_CASE("A different seed or replication gives different results", "[demography][determinism]") {
  const auto a = run_to_2030(0.05, k_seed, 0, 8192, 2);
  const auto seed = run_to_2030(0.05, k_seed + 1, 0, 8192, 2);
  const auto rep = run_to_2030(0.05, k_seed, 1, 8192, 2);
  const auto same = run_to_2030(0.05, k_seed, 0, 8192, 2);
  for (const char* path : {"/demography/births", "/demography/deaths", "/demography/population",
                           "/demography/population_by_age_status"}) {
    INFO(path);
    CHECK(bitwise_equal(a.at(path), same.at(path)));
    CHECK_FALSE(bitwise_equal(a.at(path), seed.at(path)));
    CHECK_FALSE(bitwise_equal(a.at(path), rep.at(path)));
  }
  // The initial state is drawn with the same seed, so month 0 of the 1 January snapshot
  // differs too when the seed changes (the synthetic population is random).
  const auto& s0 = a.at("/demography/population_by_age_status");
  const auto& s1 = seed.at("/demography/population_by_age_status");
  const size_t first_date = s0.size() / 6;  // 2026-01-01 .. 2031-01-01: 6 dates
  CHECK_FALSE(std::equal(s0.begin(), s0.begin() + static_cast<long>(first_date), s1.begin()));
}

TEST_CASE("Jobless graduates leave less often when the market is tighter than in the first year",
          "[demography][migration]") {
  Model m(baseline_to_2030(), config(0.02));
  const double base = m.scenario().labour_market.graduate_leave_base;
  REQUIRE(base > 0.0);
  REQUIRE(base < 0.6);
  // The first year (no reference yet): the base chance, whatever the tightness.
  m.tightness_reference = 0.0;
  m.tightness = 3.0;
  CHECK(regio::persons::graduate_leave_probability(m) == base);
  m.tightness_reference = 1.2;
  m.tightness = 1.2;
  CHECK(regio::persons::graduate_leave_probability(m) == Approx(base));
  m.tightness = 2.4;  // tighter: fewer leave
  CHECK(regio::persons::graduate_leave_probability(m) == Approx(base * 2.2 / 3.4));
  m.tightness = 0.0;  // nothing open: more leave, at most all
  CHECK(regio::persons::graduate_leave_probability(m) == Approx(std::min(1.0, base * 2.2)));
  m.tightness_reference = 9.0;
  CHECK(regio::persons::graduate_leave_probability(m) == 1.0);
}

TEST_CASE("In-migration follows labour-market tightness relative to the first year, bounded",
          "[demography][migration]") {
  Model m(baseline_to_2030(), config(0.02));
  const double e = m.scenario().demography.in_migration_tightness;
  REQUIRE(e > 0.0);
  // Before the first year has set a reference, the zone rates apply unchanged.
  m.tightness_reference = 0.0;
  m.tightness = 0.3;
  CHECK(regio::municipalities::job_pull(m) == 1.0);
  const double base = regio::municipalities::in_migration_demand(m, 0);
  REQUIRE(base > 0.0);
  m.tightness_reference = 0.05;
  m.tightness = 0.05;
  CHECK(regio::municipalities::job_pull(m) == Approx(1.0));
  m.tightness = 0.06;  // 20 % tighter
  CHECK(regio::municipalities::job_pull(m) == Approx(1.0 + 0.2 * e));
  CHECK(regio::municipalities::in_migration_demand(m, 0) == Approx(base * (1.0 + 0.2 * e)));
  m.tightness = 0.04;  // 20 % slacker
  CHECK(regio::municipalities::job_pull(m) == Approx(1.0 - 0.2 * e));
  m.tightness = 5.0;  // far tighter: bounded
  CHECK(regio::municipalities::job_pull(m) == 1.5);
  m.tightness = 0.0;
  CHECK(regio::municipalities::job_pull(m) == std::max(0.5, 1.0 - e));
}
