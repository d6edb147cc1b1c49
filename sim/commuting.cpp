#include "sim/commuting.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/model.hpp"

namespace regio {

namespace {

constexpr double k_earth_radius_km = 6371.0;
/// Average commute within an external zone (km): these areas are large towns or regions
/// whose internal trips do not enter the model except as an alternative (estimate).
constexpr double k_external_intrazonal_km = 5.0;
/// Average trip within an internal zone as a share of the square root of its land area:
/// the mean distance between two random points of a square is about 0.52 x its side.
constexpr double k_intrazonal_factor = 0.5;
/// Scale of the logit utilities: utility units per euro of generalised cost. Time is
/// valued at value_of_time per hour, so one minute weighs value_of_time / 60 x this
/// scale. With 0.5 per euro and 11 EUR/h a minute costs 0.092 utility units: choices
/// are clear-cut between modes whose times differ by half an hour, and balanced on short
/// trips (estimate).
constexpr double k_utility_per_euro = 0.5;
/// Decay of the gravity pattern used to calibrate the mode constants at build time, per
/// free-flow car minute (the scenario's default job-search time sensitivity).
constexpr double k_gravity_decay = 0.05;
/// Employed residents per inhabitant of an internal zone for the build-time gravity
/// pattern (about half of the inhabitants have a job; estimate).
constexpr double k_workers_per_inhabitant = 0.5;
/// The constants are iterated until every predicted share is within this of its target.
constexpr double k_calibration_tolerance = 1e-6;
constexpr int k_calibration_iterations = 10000;

double great_circle_km(double lat1, double lon1, double lat2, double lon2) {
  constexpr double rad = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2.0 * k_earth_radius_km * std::asin(std::min(1.0, std::sqrt(a)));
}

}  // namespace

void Commuting::build(const Scenario& s) {
  const auto& cp = s.commuting;
  internal_ = static_cast<int>(s.zones.size());
  const int external = static_cast<int>(s.external_zones.size());
  zones_ = internal_ + external;
  const size_t n = static_cast<size_t>(zones_) * zones_;
  std::vector<double> lat(static_cast<size_t>(zones_)), lon(static_cast<size_t>(zones_));
  for (int z = 0; z < internal_; ++z) lat[z] = s.zones[z].lat, lon[z] = s.zones[z].lon;
  for (int e = 0; e < external; ++e)
    lat[internal_ + e] = s.external_zones[e].lat, lon[internal_ + e] = s.external_zones[e].lon;

  km_.assign(n, 0.0);
  for (int o = 0; o < zones_; ++o)
    for (int d = 0; d < zones_; ++d) {
      double km;
      if (o != d)
        km = great_circle_km(lat[o], lon[o], lat[d], lon[d]) * cp.detour_factor;
      else if (o < internal_)
        km = k_intrazonal_factor * std::sqrt(s.zones[o].area_land_ha / 100.0);
      else
        km = k_external_intrazonal_km;
      km_[idx(o, d)] = km;
    }
  free_car_.resize(n), car_.resize(n), bike_.resize(n), pt_.resize(n), walk_.resize(n);
  cost_car_.resize(n), cost_pt_.resize(n);
  for (size_t p = 0; p < n; ++p) {
    const double km = km_[p];
    free_car_[p] = car_[p] = km / cp.speed_car * 60.0;
    bike_[p] = km / cp.speed_bike * 60.0;
    walk_[p] = km / cp.speed_walk * 60.0;
    pt_[p] = cp.wait_pt + km / cp.speed_pt * 60.0;
    cost_car_[p] = cp.cost_car * km;
    cost_pt_[p] = cp.cost_pt * km;
  }
  value_of_time_ = cp.value_of_time;
  cost_weight_ = k_utility_per_euro;
  time_weight_ = cp.value_of_time / 60.0 * k_utility_per_euro;
  bpr_alpha_ = cp.bpr_alpha;
  bpr_beta_ = cp.bpr_beta;
  capacity_factor_ = cp.capacity_factor;
  capacity_.clear();
  const double shares[k_modes] = {cp.share_car, cp.share_bike, cp.share_pt, cp.share_walk};
  double total = 0.0;
  for (double x : shares) total += x;
  if (!(total > 0.0)) throw std::invalid_argument("commuting: mode shares sum to zero");
  for (int k = 0; k < k_modes; ++k) target_[k] = shares[k] / total;

  // Build-time reference pattern: gravity over the pairs with an internal end.
  std::vector<double> workers(static_cast<size_t>(zones_)), jobs(static_cast<size_t>(zones_));
  for (int z = 0; z < internal_; ++z) {
    workers[z] = static_cast<double>(s.zones[z].inhabitants) * k_workers_per_inhabitant;
    jobs[z] = z < static_cast<int>(s.zone_economy.size()) ? s.zone_economy[z].jobs : 0.0;
  }
  for (int e = 0; e < external; ++e) {
    workers[internal_ + e] = s.external_zones[e].workers;
    jobs[internal_ + e] = s.external_zones[e].jobs;
  }
  std::vector<double> od(n, 0.0);
  for (int o = 0; o < zones_; ++o)
    for (int d = 0; d < zones_; ++d)
      if (o < internal_ || d < internal_)
        od[idx(o, d)] = workers[o] * jobs[d] * std::exp(-k_gravity_decay * free_car_[idx(o, d)]);
  for (double& a : asc_) a = 0.0;
  calibrate_on(od);
}

double Commuting::minutes(int o, int d, Mode mode) const {
  const size_t p = idx(o, d);
  switch (mode) {
    case Mode::car:
      return car_[p];
    case Mode::bike:
      return bike_[p];
    case Mode::pt:
      return pt_[p];
    case Mode::walk:
      return walk_[p];
  }
  return car_[p];
}

void Commuting::utilities(size_t p, double* v) const {
  v[0] = asc_[0] - time_weight_ * car_[p] - cost_weight_ * cost_car_[p];
  v[1] = asc_[1] - time_weight_ * bike_[p];
  v[2] = asc_[2] - time_weight_ * pt_[p] - cost_weight_ * cost_pt_[p];
  v[3] = asc_[3] - time_weight_ * walk_[p];
}

void Commuting::refresh() {
  const size_t n = km_.size();
  probs_.resize(n * k_modes);
  expected_.resize(n);
  cost_.resize(n);
  for (size_t p = 0; p < n; ++p) {
    double v[k_modes];
    utilities(p, v);
    const double top = *std::max_element(v, v + k_modes);
    double e[k_modes], sum = 0.0;
    for (int k = 0; k < k_modes; ++k) sum += e[k] = std::exp(v[k] - top);
    const double minutes[k_modes] = {car_[p], bike_[p], pt_[p], walk_[p]};
    const double money[k_modes] = {cost_car_[p], 0.0, cost_pt_[p], 0.0};
    double t = 0.0, c = 0.0;
    for (int k = 0; k < k_modes; ++k) {
      const double prob = e[k] / sum;
      probs_[p * k_modes + k] = prob;
      t += prob * minutes[k];
      c += prob * (value_of_time_ / 60.0 * minutes[k] + money[k]);
    }
    expected_[p] = t;
    cost_[p] = c;
  }
}

std::array<double, k_modes> Commuting::mode_split(const std::vector<double>& od) const {
  std::array<double, k_modes> split{};
  double total = 0.0;
  for (size_t p = 0; p < od.size() && p < expected_.size(); ++p) {
    if (od[p] <= 0.0) continue;
    total += od[p];
    for (int k = 0; k < k_modes; ++k) split[k] += od[p] * probs_[p * k_modes + k];
  }
  if (total > 0.0)
    for (double& x : split) x /= total;
  return split;
}

void Commuting::calibrate_on(const std::vector<double>& od) {
  reference_ = od;
  double total = 0.0;
  for (double w : od) total += w;
  refresh();
  if (!(total > 0.0)) return;
  for (int it = 0; it < k_calibration_iterations; ++it) {
    const std::array<double, k_modes> split = mode_split(od);
    double err = 0.0;
    for (int k = 0; k < k_modes; ++k) err = std::max(err, std::abs(split[k] - target_[k]));
    if (err < k_calibration_tolerance) return;
    for (int k = 0; k < k_modes; ++k)
      if (target_[k] > 0.0 && split[k] > 0.0) asc_[k] += std::log(target_[k] / split[k]);
    // Only differences matter: car is the reference.
    const double base = asc_[0];
    for (double& a : asc_) a -= base;
    refresh();
  }
  throw std::runtime_error("commuting: mode constants did not converge to the target split");
}

void Commuting::calibrate(const Model& m) {
  const size_t n = km_.size();
  const int nz = internal_;
  std::vector<double> od(n, 0.0);
  const auto& ps = m.persons;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps.alive[i] && ps.job_zone[i] != PersonStore::k_no_job_zone)
      od[idx(ps.zone[i], ps.job_zone[i])] += 1.0;
  const auto& w = m.outside_workers;
  for (size_t o = 0; o < w.size(); ++o)
    if (w.alive[o] && w.employer[o] != k_none) od[idx(nz + w.home[o], w.job_zone[o])] += 1.0;
  calibrate_on(od);
}

Mode Commuting::choose_mode(int o, int d, double u) const {
  const double* p = &probs_[idx(o, d) * k_modes];
  for (int k = 0; k < k_modes - 1; ++k) {
    if (u < p[k]) return static_cast<Mode>(k);
    u -= p[k];
  }
  // The last mode absorbs rounding; a mode of zero probability is never returned.
  for (int k = k_modes - 1; k >= 0; --k)
    if (p[k] > 0.0) return static_cast<Mode>(k);
  return Mode::car;
}

void Commuting::update(const Model& m) {
  const size_t n = km_.size();
  const int nz = internal_;
  const auto& ps = m.persons;
  const auto& ws = m.outside_workers;
  // Car commuters per pair (and, for the first call, employed residents per zone),
  // counted per chunk and added up as integers: independent of threads and chunking.
  const size_t chunks = m.chunk_count(ps.size());
  std::vector<std::vector<std::int64_t>> part(chunks);
  m.for_chunks(ps.size(), [&](size_t c, size_t b, size_t e) {
    auto& v = part[c];
    v.assign(n + static_cast<size_t>(nz), 0);
    for (size_t i = b; i < e; ++i) {
      if (!ps.alive[i] || ps.status[i] != regio::idx(Status::employed)) continue;
      ++v[n + ps.zone[i]];
      if (ps.job_zone[i] != PersonStore::k_no_job_zone && ps.mode[i] == regio::idx(Mode::car))
        ++v[idx(ps.zone[i], ps.job_zone[i])];
    }
  });
  std::vector<std::int64_t> flow(n + static_cast<size_t>(nz), 0);
  for (const auto& v : part)
    for (size_t k = 0; k < v.size(); ++k) flow[k] += v[k];
  for (size_t o = 0; o < ws.size(); ++o)
    if (ws.alive[o] && ws.employer[o] != k_none && ws.mode[o] == regio::idx(Mode::car))
      ++flow[idx(nz + ws.home[o], ws.job_zone[o])];

  if (capacity_.empty()) {
    // Capacities from the start: employed residents (internal origins) or the scenario's
    // workers (external), and positions (internal) or the scenario's jobs (external).
    const Scenario& s = m.scenario();
    const double scale = m.config().scale;
    std::vector<double> workers(static_cast<size_t>(zones_), 0.0), jobs(workers);
    for (int z = 0; z < nz; ++z) workers[z] = static_cast<double>(flow[n + z]);
    const auto& fs = m.firms;
    for (size_t f = 0; f < fs.size(); ++f) {
      if (!fs.alive[f]) continue;
      std::int64_t positions = 0;
      for (int l = 0; l < k_education_levels; ++l)
        positions += fs.employees[f][l] + fs.vacancies[f][l];
      jobs[fs.zone[f]] += static_cast<double>(positions);
    }
    for (int e = 0; e < zones_ - nz; ++e) {
      workers[nz + e] = s.external_zones[e].workers * scale;
      jobs[nz + e] = s.external_zones[e].jobs * scale;
    }
    capacity_.assign(n, 1.0);
    for (int o = 0; o < zones_; ++o)
      for (int d = 0; d < zones_; ++d)
        capacity_[idx(o, d)] = std::max(1.0, capacity_factor_ * std::sqrt(workers[o] * jobs[d]));
  }
  for (size_t p = 0; p < n; ++p) {
    const double ratio = static_cast<double>(flow[p]) / capacity_[p];
    car_[p] = free_car_[p] * (1.0 + bpr_alpha_ * std::pow(ratio, bpr_beta_));
  }
  refresh();
}

double Commuting::car_delay(int o, int d) const {
  const size_t p = idx(o, d);
  return car_[p] - free_car_[p];
}

CommutingFigures Commuting::figures(const Model& m) const {
  const size_t n = km_.size();
  const int nz = internal_;
  const auto& ps = m.persons;
  const auto& ws = m.outside_workers;
  // Commuters per pair and mode, residents and outside workers apart; integer tallies
  // per chunk, so the sums do not depend on threads or chunking.
  const size_t cells = 2 * n * k_modes;
  const size_t chunks = m.chunk_count(ps.size());
  std::vector<std::vector<std::int64_t>> part(chunks);
  m.for_chunks(ps.size(), [&](size_t c, size_t b, size_t e) {
    auto& v = part[c];
    v.assign(cells, 0);
    for (size_t i = b; i < e; ++i)
      if (ps.alive[i] && ps.job_zone[i] != PersonStore::k_no_job_zone)
        ++v[idx(ps.zone[i], ps.job_zone[i]) * k_modes + std::min<size_t>(ps.mode[i], 3)];
  });
  std::vector<std::int64_t> count(cells, 0);
  for (const auto& v : part)
    for (size_t k = 0; k < v.size(); ++k) count[k] += v[k];
  for (size_t o = 0; o < ws.size(); ++o)
    if (ws.alive[o] && ws.employer[o] != k_none)
      ++count[(n + idx(nz + ws.home[o], ws.job_zone[o])) * k_modes +
              std::min<size_t>(ws.mode[o], 3)];

  CommutingFigures f;
  f.zones = zones_;
  f.matrix.assign(n, 0);
  f.workers.assign(static_cast<size_t>(nz), 0);
  f.minutes.assign(static_cast<size_t>(nz), 0.0);
  f.km.assign(static_cast<size_t>(nz), 0.0);
  std::int64_t car_commuters = 0;
  double delay = 0.0;
  for (int o = 0; o < zones_; ++o)
    for (int d = 0; d < zones_; ++d) {
      const size_t p = idx(o, d);
      for (int who = 0; who < 2; ++who)
        for (int k = 0; k < k_modes; ++k) {
          const std::int64_t c = count[(static_cast<size_t>(who) * n + p) * k_modes + k];
          if (c == 0) continue;
          f.matrix[p] += c;
          f.modes[k] += c;
          if (who == 0 && o < nz) {
            f.workers[o] += c;
            f.minutes[o] += static_cast<double>(c) * minutes(o, d, static_cast<Mode>(k));
            f.km[o] += static_cast<double>(c) * km_[p];
            if (d >= nz) f.out_commuters += c;
          }
          if (who == 1) f.in_commuters += c;
          if (k == regio::idx(Mode::car)) {
            car_commuters += c;
            f.car_km += static_cast<double>(c) * km_[p] * k_trips_per_day * k_working_days;
            delay += static_cast<double>(c) * (car_[p] - free_car_[p]);
          }
        }
    }
  for (int z = 0; z < nz; ++z)
    if (f.workers[z] > 0) {
      f.minutes[z] /= static_cast<double>(f.workers[z]);
      f.km[z] /= static_cast<double>(f.workers[z]);
    }
  f.delay_minutes = car_commuters > 0 ? delay / static_cast<double>(car_commuters) : 0.0;
  return f;
}

}  // namespace regio
