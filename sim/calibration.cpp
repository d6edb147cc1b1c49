#include "sim/calibration.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/model.hpp"

namespace regio {

namespace {

/// Targets of model.md section 7 that concern jobs, firms and commuting, measured on the
/// initial state after the initial matching of workers to positions.
void economy_rows(const Model& m, std::vector<CalibrationRow>& rows) {
  const Scenario& sc = m.scenario();
  const double scale = m.config().scale;
  const auto& fs = m.firms;
  const size_t nz = sc.zones.size();
  const int leiden = sc.zone_index("GM0546");
  const int care = sc.sector_index("care"), education = sc.sector_index("education");
  std::vector<double> jobs(nz, 0.0), est(nz, 0.0), care_jobs(nz, 0.0), edu_jobs(nz, 0.0);
  std::vector<double> cluster_jobs(m.cluster_names.size(), 0.0),
      cluster_firms(m.cluster_names.size(), 0.0);
  double knowledge = 0.0;
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!fs.alive[f]) continue;
    const size_t z = fs.zone[f];
    const double h = fs.headcount(f);
    jobs[z] += h;
    est[z] += 1.0;
    if (fs.sector[f] == care) care_jobs[z] += h;
    if (fs.sector[f] == education) edu_jobs[z] += h;
    if (fs.cluster[f] != k_no_cluster) {
      cluster_jobs[fs.cluster[f]] += h;
      if (!(fs.kind[f] & k_institution)) cluster_firms[fs.cluster[f]] += 1.0;
    }
    const std::string& key = sc.sectors[fs.sector[f]].key;
    if ((fs.kind[f] & k_institution) || key == "lsh" || key == "space" || key == "drones" ||
        key == "ict")
      knowledge += h;
  }
  for (const auto& in : m.institutions)
    if (in.level == Education::hbo || in.level == Education::wo)
      knowledge += static_cast<double>(in.resident_students);
  double region_jobs = 0.0, working_age = 0.0;
  for (size_t z = 0; z < nz; ++z)
    region_jobs += jobs[z], working_age += static_cast<double>(m.municipalities[z].working_age);
  auto add = [&](std::string name, std::string source, double target, double model, double tol,
                 std::string unit) {
    rows.push_back({std::move(name), std::move(source), target, model, tol, std::move(unit)});
  };
  if (leiden >= 0) {
    const auto z = static_cast<size_t>(leiden);
    add("jobs Leiden", "gemeente Leiden 2022: 74,696", 74696.0 * scale, jobs[z],
        0.03 * 74696.0 * scale, "jobs");
    add("establishments Leiden", "gemeente Leiden 2022: 13,981", 13981.0 * scale, est[z],
        0.15 * 13981.0 * scale, "firms");
    add("care share of Leiden jobs", "gemeente Leiden: 28 % (NL 17 %)", 28.0,
        100.0 * care_jobs[z] / jobs[z], 1.5, "%");
    add("education share of Leiden jobs", "gemeente Leiden: 16 % (NL 6 %)", 16.0,
        100.0 * edu_jobs[z] / jobs[z], 1.5, "%");
  }
  add("jobs per 1,000 aged 15-64 (region)", "model.md: ~760-800 (NL 796, Leiderdorp 764)", 780.0,
      1000.0 * region_jobs / std::max(1.0, working_age), 40.0, "jobs");
  auto cluster = [&](const std::string& name) -> int {
    const std::uint8_t c = m.cluster_index(name);
    return c == k_no_cluster ? -1 : c;
  };
  if (int c = cluster("bio science"); c >= 0) {
    add("bio science cluster jobs", "seed manifesto: ~26,000 (companies and institutions)",
        26000.0 * scale, cluster_jobs[static_cast<size_t>(c)], 0.15 * 26000.0 * scale, "jobs");
    add("bio science companies", "seed manifesto: 386 organisations of which 133 institutes",
        253.0 * scale, cluster_firms[static_cast<size_t>(c)], std::max(1.0, 0.05 * 253.0 * scale),
        "firms");
  }
  if (int c = cluster("space tech and data"); c >= 0) {
    add("space cluster jobs", "seed manifesto: 4,000+ (ESTEC ~2,700)", 4000.0 * scale,
        cluster_jobs[static_cast<size_t>(c)], 0.1 * 4000.0 * scale, "jobs");
    add("space cluster companies", "seed manifesto: 125+ (with ESTEC)", 124.0 * scale,
        cluster_firms[static_cast<size_t>(c)], std::max(1.0, 0.05 * 124.0 * scale), "firms");
  }
  if (int c = cluster("autonomous tech"); c >= 0) {
    add("drone cluster jobs", "seed manifesto: 160", 160.0 * scale,
        cluster_jobs[static_cast<size_t>(c)], std::max(2.0, 0.1 * 160.0 * scale), "jobs");
    add("drone cluster companies", "seed manifesto: 24", 24.0 * scale,
        cluster_firms[static_cast<size_t>(c)], std::max(1.0, 0.05 * 24.0 * scale), "firms");
  }
  add("knowledge economy (knowledge jobs + resident hbo/wo students)",
      "seed manifesto: ~60,000 working or studying", 60000.0 * scale, knowledge,
      0.25 * 60000.0 * scale, "persons");

  // Commuting of employed residents and Leiden's jobs held by Leiden residents.
  const Commuting& c = m.commuting;
  const auto& p = m.persons;
  double km = 0.0, commuters = 0.0, leiden_by_leiden = 0.0;
  std::array<double, k_modes> modes{};
  for (size_t i = 0; i < p.size(); ++i) {
    if (!p.alive[i] || p.job_zone[i] == PersonStore::k_no_job_zone) continue;
    km += c.km(p.zone[i], p.job_zone[i]);
    commuters += 1.0;
    modes[p.mode[i]] += 1.0;
    if (leiden >= 0 && p.zone[i] == leiden && p.job_zone[i] == leiden && p.employer[i] != k_none)
      leiden_by_leiden += 1.0;
  }
  const auto& w = m.outside_workers;
  for (size_t o = 0; o < w.size(); ++o)
    if (w.alive[o] && w.employer[o] != k_none) modes[w.mode[o]] += 1.0;
  double all_modes = modes[0] + modes[1] + modes[2] + modes[3];
  add("average home-work distance", "CBS 85481NED 2022: 19.8 km", 19.8,
      commuters > 0 ? km / commuters : 0.0, 3.0, "km");
  if (leiden >= 0)
    add("Leiden jobs held by Leiden residents", "CBS / Urban Data Center 2020: ~30 %", 30.0,
        100.0 * leiden_by_leiden / std::max(1.0, jobs[static_cast<size_t>(leiden)]), 5.0, "%");
  const auto& cp = sc.commuting;
  add("commuting by car", cp.share_car.source, 100.0 * cp.share_car, 100.0 * modes[0] / all_modes,
      3.0, "%");
  add("commuting by bike", cp.share_bike.source, 100.0 * cp.share_bike,
      100.0 * modes[1] / all_modes, 3.0, "%");
  add("commuting by public transport", cp.share_pt.source, 100.0 * cp.share_pt,
      100.0 * modes[2] / all_modes, 3.0, "%");
}

}  // namespace

std::vector<CalibrationRow> calibrate(const Model& m) {
  const Scenario& sc = m.scenario();
  const double scale = m.config().scale;
  const std::int32_t now = m.first_month();
  const auto& p = m.persons;
  std::vector<CalibrationRow> rows;

  // Counts per zone from the agents themselves (not from the accounting counters).
  const size_t nz = sc.zones.size();
  std::vector<double> people(nz), men(nz), women(nz), old(nz), labour(nz), unemployed(nz),
      age15_74(nz), active15_74(nz);
  for (size_t i = 0; i < p.size(); ++i) {
    if (!p.alive[i]) continue;
    const size_t z = p.zone[i];
    const int age = (now - p.birth_month[i]) / 12;
    const auto s = static_cast<Status>(p.status[i]);
    people[z] += 1;
    (p.sex[i] == idx(Sex::female) ? women : men)[z] += 1;
    if (age >= 65) old[z] += 1;
    // CBS counts students with a paid side job as employed.
    const bool in_labour_force =
        s == Status::employed || s == Status::unemployed || (s == Status::student && p.side_job[i]);
    if (s == Status::employed || s == Status::unemployed) labour[z] += 1;
    if (s == Status::unemployed) unemployed[z] += 1;
    if (age >= 15 && age < 75) {
      age15_74[z] += 1;
      if (in_labour_force) active15_74[z] += 1;
    }
  }
  std::vector<double> homes(nz);
  for (size_t h = 0; h < m.households.id.size(); ++h)
    if (m.households.alive[h]) homes[m.households.zone[h]] += 1;

  double total = 0, total_target = 0;
  for (size_t z = 0; z < nz; ++z) {
    const ZoneSpec& zs = sc.zones[z];
    rows.push_back({fmt::format("inhabitants {}", zs.name), zs.source,
                    std::round(static_cast<double>(zs.inhabitants) * scale), people[z], 0.0,
                    "persons"});
    rows.push_back({fmt::format("women {}", zs.name), zs.source,
                    std::round(static_cast<double>(zs.women) * scale), women[z], 0.0, "persons"});
    rows.push_back({fmt::format("households {}", zs.name),
                    "dwellings (" + zs.source + ") x occupancy (estimate)",
                    std::round(static_cast<double>(zs.dwellings) * scale * sc.demography.occupancy),
                    homes[z], 0.0, "households"});
    // Integer rounding of the age bands can move the share by less than 1/inhabitants.
    double share65 = 0.0;
    for (int b = 13; b < k_age_bands; ++b) share65 += zs.age_shares[b];
    rows.push_back({fmt::format("share 65+ {}", zs.name), zs.age_source, 100.0 * share65,
                    100.0 * old[z] / people[z], 0.5, "%"});
    total += people[z];
    total_target += std::round(static_cast<double>(zs.inhabitants) * scale);
  }
  rows.push_back({"inhabitants region", "CBS 2024 sum of the municipalities", total_target, total,
                  0.0, "persons"});

  double lf = 0, un = 0, a1574 = 0, act = 0;
  for (size_t z = 0; z < nz; ++z)
    lf += labour[z], un += unemployed[z], a1574 += age15_74[z], act += active15_74[z];
  rows.push_back({"unemployment rate", sc.labour.unemployment_rate.source,
                  100.0 * sc.labour.unemployment_rate, 100.0 * un / lf, 0.5, "%"});
  rows.push_back({"participation 15-74 (labour force incl. working students / population)",
                  "model.md target ~73 % (CBS net participation 2024: 72.8 %)", 73.0,
                  100.0 * act / a1574, 5.0, "%"});
  rows.push_back({"life expectancy at birth", sc.demography.life_expectancy_at_birth.source,
                  sc.demography.life_expectancy_at_birth, life_expectancy(m.schedules.mortality),
                  1.0, "years"});
  rows.push_back({"total fertility", sc.demography.total_fertility.source, 1.45,
                  [&] {
                    double tfr = 0;
                    for (int a = 15 * 12; a < 50 * 12; ++a) tfr += m.schedules.fertility.hazard(a);
                    return tfr;
                  }(),
                  0.05, "children per woman"});
  economy_rows(m, rows);
  return rows;
}

}  // namespace regio
