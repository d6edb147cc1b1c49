// Tests of sim/commuting: zone geometry (distances, intrazonal trips), times and costs by
// mode, the logit mode choice calibrated to the regional split, the BPR congestion of car
// trips, and the commuting figures tallied from a model's jobs.
//
// Geometry and calibration use the default scenario alone; congestion and the figures use
// a small Model of the default region (the constructor runs the initial matching).
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/commuting.hpp"
#include "sim/model.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_loader.hpp"

using regio::Commuting;
using regio::Mode;
using regio::Model;
using regio::RunConfig;
using regio::Scenario;

namespace {

const Scenario& scenario() {
  static const Scenario s = regio::load_scenario("key-region-leiden");
  return s;
}

Commuting built() {
  Commuting c;
  c.build(scenario());
  return c;
}

/// Great-circle distance (km) by the spherical law of cosines: a formula independent of
/// the one in sim/commuting.cpp (haversine), equal to it far below a metre here.
double law_of_cosines_km(double lat1, double lon1, double lat2, double lon2) {
  const double r = 3.14159265358979323846 / 180.0;
  const double c = std::sin(lat1 * r) * std::sin(lat2 * r) +
                   std::cos(lat1 * r) * std::cos(lat2 * r) * std::cos((lon2 - lon1) * r);
  return 6371.0 * std::acos(std::clamp(c, -1.0, 1.0));
}

constexpr std::array<Mode, regio::k_modes> k_all = {Mode::car, Mode::bike, Mode::pt, Mode::walk};

std::array<double, regio::k_modes> targets(const Scenario& s) {
  const auto& cp = s.commuting;
  std::array<double, regio::k_modes> t = {cp.share_car, cp.share_bike, cp.share_pt, cp.share_walk};
  double sum = 0.0;
  for (double x : t) sum += x;
  for (double& x : t) x /= sum;
  return t;
}

}  // namespace

TEST_CASE("zones are the internal zones followed by the external ones", "[commuting]") {
  const Commuting c = built();
  REQUIRE(c.zones() ==
          static_cast<int>(scenario().zones.size() + scenario().external_zones.size()));
}

TEST_CASE("distances: great circle x detour, symmetric, intrazonal by area", "[commuting]") {
  const Scenario& s = scenario();
  const Commuting c = built();
  const int nz = static_cast<int>(s.zones.size());
  auto lat = [&](int z) { return z < nz ? s.zones[z].lat : s.external_zones[z - nz].lat; };
  auto lon = [&](int z) { return z < nz ? s.zones[z].lon : s.external_zones[z - nz].lon; };
  for (int o = 0; o < c.zones(); ++o)
    for (int d = 0; d < c.zones(); ++d) {
      CHECK(c.km(o, d) == Approx(c.km(d, o)).epsilon(1e-12));
      if (o == d) continue;
      const double expect =
          law_of_cosines_km(lat(o), lon(o), lat(d), lon(d)) * s.commuting.detour_factor;
      CHECK(c.km(o, d) == Approx(expect).epsilon(1e-6));
      CHECK(c.km(o, d) > 0.0);
    }
  // Within an internal zone: half the square root of its land area (ha / 100 = km2).
  for (int z = 0; z < nz; ++z)
    CHECK(c.km(z, z) == Approx(0.5 * std::sqrt(s.zones[z].area_land_ha / 100.0)));
  // Within an external zone: a fixed 5 km.
  for (int z = nz; z < c.zones(); ++z) CHECK(c.km(z, z) == Approx(5.0));
  // A known pair: Leiden to Den Haag centres are about 15.6 km apart as the crow flies.
  const int leiden = s.zone_index("GM0546");
  int den_haag = -1;
  for (int e = 0; e < static_cast<int>(s.external_zones.size()); ++e)
    if (s.external_zones[e].name == "Den Haag") den_haag = nz + e;
  REQUIRE(leiden >= 0);
  REQUIRE(den_haag >= 0);
  CHECK(c.km(leiden, den_haag) / s.commuting.detour_factor == Approx(15.6).margin(0.5));
}

TEST_CASE("times and costs by mode follow the speeds; slow modes are slower", "[commuting]") {
  const Scenario& s = scenario();
  const auto& cp = s.commuting;
  const Commuting c = built();
  for (int o = 0; o < c.zones(); ++o)
    for (int d = 0; d < c.zones(); ++d) {
      const double km = c.km(o, d);
      CHECK(c.minutes(o, d, Mode::car) == Approx(km / cp.speed_car * 60.0));
      CHECK(c.minutes(o, d, Mode::bike) == Approx(km / cp.speed_bike * 60.0));
      CHECK(c.minutes(o, d, Mode::walk) == Approx(km / cp.speed_walk * 60.0));
      CHECK(c.minutes(o, d, Mode::pt) == Approx(cp.wait_pt + km / cp.speed_pt * 60.0));
      CHECK(c.car_delay(o, d) == 0.0);  // no flows before the first update
      // Public transport is slower than the car on every trip (waiting, lower speed),
      // walking slower than cycling slower than driving.
      CHECK(c.minutes(o, d, Mode::pt) > c.minutes(o, d, Mode::car));
      CHECK(c.minutes(o, d, Mode::walk) > c.minutes(o, d, Mode::bike));
      CHECK(c.minutes(o, d, Mode::bike) > c.minutes(o, d, Mode::car));
      // The expected time lies between the fastest and the slowest mode; probabilities
      // are a distribution.
      double lo = 1e300, hi = 0.0, sum = 0.0;
      for (Mode k : k_all) {
        lo = std::min(lo, c.minutes(o, d, k));
        hi = std::max(hi, c.minutes(o, d, k));
        CHECK(c.probability(o, d, k) >= 0.0);
        sum += c.probability(o, d, k);
      }
      CHECK(sum == Approx(1.0).epsilon(1e-12));
      CHECK(c.expected_minutes(o, d) >= lo - 1e-9);
      CHECK(c.expected_minutes(o, d) <= hi + 1e-9);
      CHECK(c.expected_cost(o, d) > 0.0);
    }
}

TEST_CASE("the calibrated logit reproduces the scenario's mode split", "[commuting]") {
  const Scenario& s = scenario();
  const Commuting c = built();
  const auto t = targets(s);
  const auto split = c.mode_split(c.reference());
  for (int k = 0; k < regio::k_modes; ++k) CHECK(split[k] == Approx(t[k]).margin(0.005));
  // The constants are far tighter than the 0.5 pp asked for.
  for (int k = 0; k < regio::k_modes; ++k) CHECK(std::abs(split[k] - t[k]) < 1e-5);
  CHECK(c.asc(Mode::car) == 0.0);  // the reference alternative
}

TEST_CASE("short trips favour cycling and walking, long trips the car", "[commuting]") {
  const Scenario& s = scenario();
  const Commuting c = built();
  const int leiden = s.zone_index("GM0546");
  const int far = c.zones() - 1;  // the last external zone ("rest of NL", ~100 km)
  CHECK(c.probability(leiden, leiden, Mode::bike) > c.probability(leiden, far, Mode::bike));
  CHECK(c.probability(leiden, leiden, Mode::walk) > c.probability(leiden, far, Mode::walk));
  CHECK(c.probability(leiden, far, Mode::car) > c.probability(leiden, leiden, Mode::car));
}

TEST_CASE("choose_mode draws the pair's probabilities", "[commuting]") {
  const Scenario& s = scenario();
  const Commuting c = built();
  const int leiden = s.zone_index("GM0546"), katwijk = s.zone_index("GM0537");
  // A uniform grid of draws: each mode gets its probability's share of the grid, to
  // within one grid step.
  constexpr int n = 100000;
  for (auto [o, d] :
       {std::pair{leiden, leiden}, std::pair{katwijk, leiden}, std::pair{leiden, c.zones() - 1}}) {
    std::array<int, regio::k_modes> count{};
    for (int i = 0; i < n; ++i) ++count[static_cast<int>(c.choose_mode(o, d, (i + 0.5) / n))];
    for (Mode k : k_all)
      CHECK(count[static_cast<int>(k)] / double(n) ==
            Approx(c.probability(o, d, k)).margin(1.5 / n));
  }
  // Extreme draws stay within the modes that have probability.
  CHECK(c.probability(leiden, leiden, c.choose_mode(leiden, leiden, 0.0)) > 0.0);
  CHECK(c.probability(leiden, leiden, c.choose_mode(leiden, leiden, 1.0)) > 0.0);
}

TEST_CASE("congestion: car minutes rise with the car flow by the BPR function", "[commuting]") {
  const Scenario& s = scenario();
  RunConfig config;
  config.scale = 0.05;
  Model m(s, config);
  const int leiden = s.zone_index("GM0546");
  auto& ps = m.persons;
  // The residents of Leiden working in Leiden (the only commuters on that pair): none,
  // half, then all of them drive.
  std::vector<size_t> pair;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps.alive[i] && ps.zone[i] == leiden && ps.job_zone[i] == leiden &&
        ps.status[i] == regio::idx(regio::Status::employed))
      pair.push_back(i);
  REQUIRE(pair.size() >= 100);
  const size_t even = pair.size() & ~size_t{1};  // an odd last one never drives
  auto drive = [&](size_t n) {
    for (size_t k = 0; k < pair.size(); ++k)
      ps.mode[pair[k]] = static_cast<std::uint8_t>(k < n ? Mode::car : Mode::bike);
    m.commuting.update(m);
  };
  const double free = m.commuting.km(leiden, leiden) / s.commuting.speed_car * 60.0;
  drive(0);
  CHECK(m.commuting.car_delay(leiden, leiden) == 0.0);
  CHECK(m.commuting.minutes(leiden, leiden, Mode::car) == Approx(free));
  const double p_free = m.commuting.probability(leiden, leiden, Mode::car);
  drive(even / 2);
  const double half = m.commuting.car_delay(leiden, leiden);
  drive(even);
  const double full = m.commuting.car_delay(leiden, leiden);
  CHECK(half > 0.0);
  CHECK(full > half);
  CHECK(m.commuting.minutes(leiden, leiden, Mode::car) == Approx(free + full));
  // delay = free x alpha x (flow / capacity)^beta: doubling the flow multiplies it by 2^beta.
  CHECK(full / half == Approx(std::pow(2.0, s.commuting.bpr_beta)).epsilon(1e-9));
  // Slower car trips lose car commuters to the other modes; the constants stay.
  CHECK(m.commuting.probability(leiden, leiden, Mode::car) < p_free);
}

TEST_CASE("commuting figures tally the jobs held now", "[commuting]") {
  const Scenario& s = scenario();
  RunConfig config;
  config.scale = 0.05;
  const Model m(s, config);
  const Commuting& c = m.commuting;
  const auto f = c.figures(m);
  const int nz = m.internal_zones();
  REQUIRE(f.zones == c.zones());
  REQUIRE(f.matrix.size() == static_cast<size_t>(c.zones()) * c.zones());

  // Recount from the stores, pair by pair and mode by mode.
  std::vector<std::int64_t> matrix(f.matrix.size(), 0), workers(static_cast<size_t>(nz), 0);
  std::array<std::int64_t, regio::k_modes> modes{};
  std::int64_t in = 0, out = 0, cars = 0;
  double car_km = 0.0, delay = 0.0;
  std::vector<double> minutes(static_cast<size_t>(nz), 0.0), km(minutes);
  const auto& ps = m.persons;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps.alive[i] || ps.job_zone[i] == regio::PersonStore::k_no_job_zone) continue;
    const int o = ps.zone[i], d = ps.job_zone[i];
    ++matrix[static_cast<size_t>(o) * c.zones() + d];
    ++workers[o];
    ++modes[ps.mode[i]];
    out += d >= nz;
    minutes[o] += c.minutes(o, d, static_cast<Mode>(ps.mode[i]));
    km[o] += c.km(o, d);
    if (ps.mode[i] == 0) ++cars, car_km += 42.0 * c.km(o, d), delay += c.car_delay(o, d);
  }
  const auto& w = m.outside_workers;
  for (size_t k = 0; k < w.size(); ++k) {
    if (!w.alive[k] || w.employer[k] == regio::k_none) continue;
    const int o = nz + w.home[k], d = w.job_zone[k];
    ++matrix[static_cast<size_t>(o) * c.zones() + d];
    ++modes[w.mode[k]];
    ++in;
    if (w.mode[k] == 0) ++cars, car_km += 42.0 * c.km(o, d), delay += c.car_delay(o, d);
  }
  CHECK(f.matrix == matrix);
  CHECK(f.workers == workers);
  CHECK(f.modes == modes);
  CHECK(f.in_commuters == in);
  CHECK(f.out_commuters == out);
  CHECK(f.car_km == Approx(car_km).epsilon(1e-9));
  CHECK(f.delay_minutes == Approx(cars ? delay / cars : 0.0).margin(1e-12));
  for (int z = 0; z < nz; ++z) {
    REQUIRE(workers[z] > 0);
    CHECK(f.minutes[z] == Approx(minutes[z] / workers[z]).epsilon(1e-9));
    CHECK(f.km[z] == Approx(km[z] / workers[z]).epsilon(1e-9));
  }
  // Nobody commutes between two external zones.
  for (int o = nz; o < c.zones(); ++o)
    for (int d = nz; d < c.zones(); ++d)
      CHECK(f.matrix[static_cast<size_t>(o) * c.zones() + d] == 0);
}

TEST_CASE("commuting figures do not depend on the chunk size", "[commuting]") {
  const Scenario& s = scenario();
  RunConfig a, b;
  a.scale = b.scale = 0.05;
  a.chunk_size = 1024;
  b.chunk_size = 8192;
  const Model ma(s, a), mb(s, b);
  const auto fa = ma.commuting.figures(ma), fb = mb.commuting.figures(mb);
  CHECK(fa.matrix == fb.matrix);
  CHECK(fa.minutes == fb.minutes);
  CHECK(fa.km == fb.km);
  CHECK(fa.car_km == fb.car_km);
  CHECK(fa.delay_minutes == fb.delay_minutes);
}

namespace {

/// The commuting pattern's shares: out-commuters per employed resident, in-commuters per
/// regional job, and the employed residents' average home-work distance (km).
struct Pattern {
  double out_share = 0.0, in_share = 0.0, km = 0.0;
};

Pattern pattern(const Model& m) {
  const auto f = m.commuting.figures(m);
  const int nz = m.internal_zones(), zones = f.zones;
  double workers = 0.0, km = 0.0, jobs = 0.0;
  for (int z = 0; z < nz; ++z) {
    workers += static_cast<double>(f.workers[static_cast<size_t>(z)]);
    km += f.km[static_cast<size_t>(z)] * static_cast<double>(f.workers[static_cast<size_t>(z)]);
  }
  for (int o = 0; o < zones; ++o)
    for (int d = 0; d < nz; ++d)
      jobs += static_cast<double>(f.matrix[static_cast<size_t>(o) * zones + d]);
  return {static_cast<double>(f.out_commuters) / workers,
          static_cast<double>(f.in_commuters) / jobs, km / workers};
}

}  // namespace

TEST_CASE("the commuting pattern does not drift without cause over 2026-2046",
          "[commuting][labour_market]") {
  // The default region at 25 % with the scenario's seed, nothing changed: on every
  // 1 January the shares stay near those of the start. An earlier model lost 40-50 % of
  // each (out-commuting drained away, in-commuters lost every application to residents,
  // the distance fell from 20.6 to 11.7 km) and fails this by far.
  // Tolerances, from 8 other seeds at 10 % (wider than at 25 %): the out-commuter share and the
  // distance move by at most 4 % (SD of a year's deviation below 0.7 pp); +-10 % is the aim for the
  // full region. The in-commuter share moves for a cause: it rises by a few per cent while labour
  // demand runs ahead of the residents' supply in the first decade, and falls in the 2040s, when
  // the resident labour force (housing-led in-migration) outgrows the jobs and unemployment rises
  // towards 5 %: residents then win more of the openings (about -11 % at this scale by 2047, -13 %
  // at full scale; a 10 % sample exaggerates it to -23 %, hence 25 % here). 20 % bounds that path;
  // the drift of the earlier model
  // (-50 %) still fails it.
  const Scenario& s = scenario();
  RunConfig config;
  config.scale = 0.25;
  config.seed = s.seed;
  Model m(s, config);
  const Pattern start = pattern(m);
  REQUIRE(start.out_share > 0.3);
  REQUIRE(start.in_share > 0.3);
  REQUIRE(start.km > 15.0);
  int years = 0;
  while (!m.finished()) {
    m.step();
    if (m.now() % 12 != 0) continue;
    ++years;
    const Pattern p = pattern(m);
    INFO("1 January " << m.now() / 12 << ": out-commuters per employed resident " << p.out_share
                      << " (start " << start.out_share << "), in-commuters per job " << p.in_share
                      << " (start " << start.in_share << "), km " << p.km << " (start " << start.km
                      << ")");
    CHECK(p.out_share == Approx(start.out_share).epsilon(0.10));
    CHECK(p.in_share == Approx(start.in_share).epsilon(0.20));
    CHECK(p.km == Approx(start.km).epsilon(0.10));
  }
  CHECK(years == 21);
}
