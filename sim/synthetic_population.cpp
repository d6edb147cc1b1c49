#include "sim/synthetic_population.hpp"

#include <oneapi/tbb/parallel_invoke.h>
#include <oneapi/tbb/parallel_sort.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include "sim/model.hpp"
#include "sim/parallel.hpp"
#include "sim/sampling.hpp"

namespace regio {

namespace {

// Share of women by five-year band (estimate after the CBS sex ratio by age): women
// outlive men, so the oldest bands are mostly female.
constexpr std::array<double, k_age_bands> k_female_share{
    0.488, 0.488, 0.488, 0.490, 0.495, 0.500, 0.500, 0.500, 0.500, 0.500,
    0.500, 0.500, 0.505, 0.510, 0.520, 0.545, 0.580, 0.640, 0.720};

// Education of persons aged 65+ mixes the zone profile with this older-cohort profile
// (estimate: older cohorts left school earlier).
constexpr std::array<double, k_education_levels> k_older_education{0.35, 0.38, 0.17, 0.10};
// Participation falls in the years before the pension age (estimate).
double participation_age_factor(int age) {
  return age >= 60 ? 0.8 : age < 20 ? 0.7 : 1.0;
}
// University and hbo students who live away from their parents (estimate, Nibud/CBS).
constexpr double k_students_living_away = 0.6;
constexpr int k_max_dependents = 4;

int start_age(Education level) {
  return level == Education::mbo ? 16 : level == Education::hbo ? 17 : 18;
}

using households::add_member;

/// Creates one person's individual state (age, sex, education, status) at `now`.
void init_person(Model& m, size_t i, int zone, std::int32_t now) {
  auto& p = m.persons;
  const Scenario& sc = m.scenario();
  Rng rng = m.rng(Stream::population_init, p.id[i], 0);
  const int age = (now - p.birth_month[i]) / 12;
  const ZoneSpec& z = sc.zones[static_cast<size_t>(zone)];
  p.zone[i] = static_cast<std::uint16_t>(zone);

  // Completed education of adults.
  std::array<double, k_education_levels> edu = z.education_shares;
  if (age >= 65)
    for (int e = 0; e < k_education_levels; ++e) edu[e] = 0.5 * edu[e] + 0.5 * k_older_education[e];
  const double u_edu = rng.uniform(), u_parent = rng.uniform(), u_track = rng.uniform();
  const double u_complete = rng.uniform();
  const double u_inst = rng.uniform(), u_region = rng.uniform(), u_field = rng.uniform();
  const double u_active = rng.uniform(), u_unemployed = rng.uniform(), u_side_job = rng.uniform();

  if (age < 16) {
    p.status[i] = idx(Status::child);
    p.next_life[i] = p.birth_month[i] + 16 * 12;
    p.life_event[i] = idx(LifeEvent::choose_track);
    return;
  }
  bool schooled = false;  // education and field already set by the school-career replay
  if (age < 30) {
    // Replay the school career the model's own rules would have produced, so that the
    // initial stocks of pupils, students and young graduates match the flows that follow.
    const auto parent = static_cast<Education>(pick(z.education_shares, u_parent));
    const auto level =
        static_cast<Education>(pick(sc.education.track_by_parent[idx(parent)], u_track));
    p.parent_education[i] = idx(parent);
    p.track[i] = idx(level);
    if (level == Education::basic) {
      if (age < 18) {
        p.status[i] = idx(Status::child);
        p.next_life[i] = std::max(now, persons::september_at_age(p.birth_month[i], 18));
        p.life_event[i] = idx(LifeEvent::enter_labour);
        return;
      }
    } else {
      const std::int32_t start = persons::september_at_age(p.birth_month[i], start_age(level));
      if (now < start) {  // a pupil in secondary school who will start in September
        p.status[i] = idx(Status::child);
        p.next_life[i] = start;
        p.life_event[i] = idx(LifeEvent::start_study);
        return;
      }
      const auto& e = sc.education;
      const double in_region = level == Education::mbo   ? e.enrolled_in_region_mbo.value
                               : level == Education::hbo ? e.enrolled_in_region_hbo.value
                                                         : e.enrolled_in_region_wo.value;
      const int inst = u_region < in_region ? institutions::choose(m, level, u_inst) : -1;
      int years = persons::outside_programme_years(level);
      if (inst >= 0) {
        const Institution& in = m.institutions[static_cast<size_t>(inst)];
        years = in.programme_years;
        p.field[i] = static_cast<std::uint8_t>(pick(in.field_shares, u_field));
      } else {
        p.field[i] = static_cast<std::uint8_t>(pick(sc.field_by_education[idx(level)], u_field));
      }
      const std::int32_t graduation = start + 12 * years - 2;  // July of the final year
      if (now < graduation) {
        if (inst >= 0) p.institution[i] = static_cast<std::uint16_t>(inst);
        p.status[i] = idx(Status::student);
        p.side_job[i] = u_side_job < sc.labour.student_job_share ? 1 : 0;
        p.status_since[i] = start;
        p.next_life[i] = graduation;
        p.life_event[i] = idx(LifeEvent::graduate);
        return;
      }
      const bool completed = u_complete < institutions::completion_rate(m, level);
      p.education[i] = idx(completed ? level : Education::basic);
      schooled = true;
    }
  }
  if (!schooled) {
    p.education[i] = static_cast<std::uint8_t>(pick(edu, u_edu));
    p.field[i] = static_cast<std::uint8_t>(pick(sc.field_by_education[p.education[i]], u_field));
  }

  const std::int32_t retire = persons::retirement_month(m, p.birth_month[i]);
  if (retire <= now) {
    p.status[i] = idx(Status::retired);
    p.status_since[i] = retire;
    return;
  }
  const double part = sc.labour.participation[p.education[i]] * participation_age_factor(age);
  Status s = Status::inactive;
  if (u_active < part)
    s = u_unemployed < sc.labour.unemployment_rate ? Status::unemployed : Status::employed;
  p.status[i] = idx(s);
  p.status_since[i] = now;
  p.next_life[i] = retire;
  p.life_event[i] = idx(LifeEvent::retire);
}

/// Sorts person indices by birth month, oldest first, then by index: on keys made once
/// (birth month and index in one number), as a comparison that looked up both persons'
/// birth months, scattered over the store, was most of the sort's time.
void sort_by_age(const PersonStore& ps, std::vector<size_t>& v) {
  std::vector<std::uint64_t> key(v.size());
  parallel_each(v.size(), 4096, [&](size_t k) {
    // (The sign bit flipped: signed months in unsigned order.)
    const std::uint32_t month = static_cast<std::uint32_t>(ps.birth_month[v[k]]) ^ 0x80000000u;
    key[k] = std::uint64_t{month} << 32 | static_cast<std::uint32_t>(v[k]);
  });
  tbb::parallel_sort(key.begin(), key.end());
  parallel_each(v.size(), 4096,
                [&](size_t k) { v[k] = static_cast<size_t>(key[k] & 0xFFFFFFFFu); });
}

void build_zone(Model& m, int zone, std::int32_t now) {
  const Scenario& sc = m.scenario();
  const ZoneSpec& z = sc.zones[static_cast<size_t>(zone)];
  const double scale = m.config().scale;
  auto& ps = m.persons;
  auto& hh = m.households;

  const long long total = std::llround(static_cast<double>(z.inhabitants) * scale);
  const long long women = std::llround(static_cast<double>(z.women) * scale);
  std::array<long long, k_age_bands> band{};
  apportion(z.age_shares, total, band.data(), k_age_bands);
  std::array<double, k_age_bands> female_weight{};
  for (int b = 0; b < k_age_bands; ++b) female_weight[b] = band[b] * k_female_share[b];
  std::array<long long, k_age_bands> band_women{};
  apportion(female_weight, women, band_women.data(), k_age_bands);
  // Keep each band's women within its total (only matters for tiny samples).
  long long excess = 0;
  for (int b = 0; b < k_age_bands; ++b)
    if (band_women[b] > band[b]) excess += band_women[b] - band[b], band_women[b] = band[b];
  for (int b = 0; b < k_age_bands && excess > 0; ++b) {
    const long long room = std::min(excess, band[b] - band_women[b]);
    band_women[b] += room, excess -= room;
  }

  // The zone's persons, band after band, with consecutive ids; each person's own state
  // (age within the band, sex by its place in the band, then init_person) depends only on
  // its id's random numbers and its place: parallel.
  std::array<long long, k_age_bands + 1> band_start{};
  for (int b = 0; b < k_age_bands; ++b) band_start[b + 1] = band_start[b] + band[b];
  const std::uint32_t first_id = m.next_person_id;
  const auto count = static_cast<size_t>(band_start[k_age_bands]);
  m.next_person_id += static_cast<std::uint32_t>(count);
  const size_t first = ps.append_n(first_id, count);
  const size_t last = ps.size();
  for (size_t i = first; i < last; ++i) m.index_person(ps.id[i], i);
  m.for_chunks(last - first, [&](size_t, size_t b, size_t e) {
    // The band of the chunk's first person, then the next ones as the places pass them.
    int band_of = static_cast<int>(
        std::upper_bound(band_start.begin(), band_start.end(), static_cast<long long>(b)) -
        band_start.begin() - 1);
    for (size_t i = first + b; i < first + e; ++i) {
      const auto at = static_cast<long long>(i - first);
      while (at >= band_start[band_of + 1]) ++band_of;
      Rng rng = m.rng(Stream::population_init, ps.id[i], 1);
      const int span = band_of == k_age_bands - 1 ? 120 : 60;  // 90+: ages 90-99
      const auto age_months = static_cast<std::int32_t>(60 * band_of + rng.below(span));
      ps.birth_month[i] = now - age_months;
      ps.sex[i] = idx(at - band_start[band_of] < band_women[band_of] ? Sex::female : Sex::male);
      init_person(m, i, zone, now);
    }
  });

  // Who lives with parents: all under 18; young adults by the leave-home schedule
  // (students living away more often).
  const double med = sc.demography.leave_home_median_age, spread = sc.demography.leave_home_spread;
  // (Each person's choice draws its own numbers: made in parallel, listed in order.)
  std::vector<std::uint8_t> home(last - first);
  parallel_each(last - first, 1024, [&](size_t k) {
    const size_t i = first + k;
    const int age = (now - ps.birth_month[i]) / 12;
    bool at_home = age < 18;
    if (!at_home && age < 35) {
      Rng rng = m.rng(Stream::household_init, ps.id[i], 0);
      double left = 1.0 / (1.0 + std::exp(-((age + 0.5) - med) / spread));
      if (ps.status[i] == idx(Status::student) && ps.track[i] != idx(Education::mbo))
        left = left + (1.0 - left) * k_students_living_away;
      at_home = rng.uniform() > left;
    }
    home[k] = at_home ? 1 : 0;
  });
  std::vector<size_t> dependents, independents;
  for (size_t i = first; i < last; ++i) (home[i - first] ? dependents : independents).push_back(i);

  // Households: one per occupied dwelling; adults beyond one per household form couples.
  long long target =
      std::llround(static_cast<double>(z.dwellings) * scale * sc.demography.occupancy);
  const long long adults = static_cast<long long>(independents.size());
  target = std::clamp<long long>(target, adults > 0 ? 1 : 0, adults);
  // At most one couple per household (dense zones or tiny samples have more adults).
  long long couples = std::min({adults - target, adults / 2, target});
  long long extras = adults - target - couples;

  // Couples are drawn among adults aged 20+ by random key, paired by age rank. (The keys
  // are drawn and the lists sorted in parallel: the keys are each person's own, and every
  // order below is total, so the result is the same for any number of threads.)
  std::vector<double> key(independents.size());
  parallel_each(independents.size(), 1024, [&](size_t k) {
    key[k] = m.rng(Stream::household_init, ps.id[independents[k]], 1).uniform();
  });
  std::vector<std::pair<double, size_t>> men, women_pool;
  for (size_t k = 0; k < independents.size(); ++k) {
    const size_t i = independents[k];
    if ((now - ps.birth_month[i]) / 12 < 20) continue;
    (ps.sex[i] == idx(Sex::female) ? women_pool : men).emplace_back(key[k], i);
  }
  const long long pairs = std::min<long long>(
      {couples, static_cast<long long>(men.size()), static_cast<long long>(women_pool.size())});
  // Those with the `pairs` lowest keys of each sex (a total order, so always the same
  // ones): only who they are matters, as they are paired by age below. (Selected, not
  // sorted: a full sort of both lists took several times as long.)
  auto lowest = [pairs](std::vector<std::pair<double, size_t>>& pool) {
    std::nth_element(pool.begin(), pool.begin() + pairs, pool.end());
    std::vector<size_t> chosen(static_cast<size_t>(pairs));
    for (long long k = 0; k < pairs; ++k) chosen[static_cast<size_t>(k)] = pool[k].second;
    return chosen;
  };
  std::vector<size_t> he, she;
  tbb::parallel_invoke([&] { he = lowest(men); }, [&] { she = lowest(women_pool); });
  auto by_age = [&](size_t a, size_t b) {
    return ps.birth_month[a] != ps.birth_month[b] ? ps.birth_month[a] < ps.birth_month[b] : a < b;
  };
  sort_by_age(ps, he);
  sort_by_age(ps, she);
  std::vector<std::uint8_t> placed(last - first, 0);
  std::vector<size_t> zone_households;
  auto new_household = [&]() {
    const std::uint32_t hid = m.next_household_id++;
    const size_t h = hh.append(hid, static_cast<std::uint16_t>(zone));
    m.index_household(hid, h);
    zone_households.push_back(h);
    return h;
  };
  for (size_t k = 0; k < he.size(); ++k) {
    const size_t h = new_household();
    const bool he_older = ps.birth_month[he[k]] <= ps.birth_month[she[k]];
    add_member(m, h, he_older ? he[k] : she[k], Role::head);
    add_member(m, h, he_older ? she[k] : he[k], Role::partner);
    ps.partnered[he[k]] = ps.partnered[she[k]] = 1;
    placed[he[k] - first] = placed[she[k] - first] = 1;
  }
  // Couples that could not be formed from opposite sexes stay as extra adults.
  extras += couples - pairs;
  std::vector<size_t> rest;
  for (size_t i : independents)
    if (!placed[i - first]) rest.push_back(i);
  // The youngest unplaced adults share with others (students, young adults); the rest
  // live alone.
  sort_by_age(ps, rest);
  const size_t singles = rest.size() - static_cast<size_t>(std::max<long long>(0, extras));
  for (size_t k = 0; k < singles; ++k) add_member(m, new_household(), rest[k], Role::head);
  for (size_t k = singles; k < rest.size(); ++k) {
    Rng rng = m.rng(Stream::household_init, ps.id[rest[k]], 2);
    const size_t h = zone_households[rng.below(static_cast<std::uint32_t>(zone_households.size()))];
    add_member(m, h, rest[k], Role::other);
  }

  // Dependents join a household whose oldest member is a plausible parent's age.
  std::vector<std::vector<size_t>> by_ref_age(111);
  for (size_t h : zone_households)
    by_ref_age[static_cast<size_t>(std::clamp((now - hh.ref_birth[h]) / 12, 0, 110))].push_back(h);
  // A tiny sample may leave a zone with dependents but no adult household: the eldest
  // dependent then heads one, so that nobody is without a household.
  if (zone_households.empty() && !dependents.empty()) {
    auto eldest = std::min_element(dependents.begin(), dependents.end(), by_age);
    add_member(m, new_household(), *eldest, Role::head);
    dependents.erase(eldest);
    for (auto& v : by_ref_age) v.clear();
    by_ref_age[static_cast<size_t>(
                   std::clamp((now - hh.ref_birth[zone_households[0]]) / 12, 0, 110))]
        .push_back(zone_households[0]);
  }
  const size_t h0 = zone_households.empty() ? 0 : zone_households.front();
  std::vector<int> dependents_of(hh.id.size() - h0, 0);
  for (size_t i : dependents) {
    const int age = (now - ps.birth_month[i]) / 12;
    Rng rng = m.rng(Stream::household_init, ps.id[i], 3);
    const int want = std::clamp(static_cast<int>(std::lround(rng.normal(age + 31.0, 5.0))),
                                age + 18, std::min(age + 50, 110));
    size_t chosen = k_none;
    for (int d = 0; d <= 110 && chosen == k_none; ++d) {
      for (int sign : {1, -1}) {
        const int a = want + sign * d;
        if (a < 18 || a > 110 || (d == 0 && sign < 0)) continue;
        const auto& cand = by_ref_age[static_cast<size_t>(a)];
        if (cand.empty()) continue;
        const size_t start = rng.below(static_cast<std::uint32_t>(cand.size()));
        for (size_t k = 0; k < cand.size(); ++k) {
          const size_t h = cand[(start + k) % cand.size()];
          if (dependents_of[h - h0] < k_max_dependents) {
            chosen = h;
            break;
          }
        }
        if (chosen != k_none) break;
      }
    }
    if (chosen == k_none)  // every household is full: any household takes the dependent
      chosen = zone_households[rng.below(static_cast<std::uint32_t>(zone_households.size()))];
    ++dependents_of[chosen - h0];
    add_member(m, chosen, i, Role::child);
  }

  // Parents' education, then every schedule.
  // (Each child's own field, read from the finished households: parallel.)
  parallel_each(first, last, 1024, [&](size_t i) {
    if (ps.role[i] != idx(Role::child)) return;
    const size_t h = m.household_index(ps.household[i]);
    std::uint8_t best = 0;
    for (std::uint32_t q = hh.first_member[h]; q != k_none; q = ps.next_member[m.person_index(q)]) {
      const size_t qi = m.person_index(q);
      if (ps.role[qi] != idx(Role::child)) best = std::max(best, ps.education[qi]);
    }
    ps.parent_education[i] = best;
  });
  m.for_chunks(last - first, [&](size_t, size_t b, size_t e) {
    for (size_t i = first + b; i < first + e; ++i) {
      persons::schedule_person(m, i, now);
      const auto s = static_cast<Status>(ps.status[i]);
      if (s == Status::employed || s == Status::unemployed || s == Status::inactive) {
        Rng rng = m.rng(Stream::labour, ps.id[i], now - 1);
        persons::schedule_labour(m, i, now, rng);
      }
    }
  });
  for (size_t i = first; i < last; ++i)
    if (ps.institution[i] != PersonStore::k_outside)
      ++m.institutions[ps.institution[i]].resident_students;
  // (Each household's move draws only its own numbers.)
  parallel_each(zone_households.size(), 1024,
                [&](size_t k) { households::schedule_move(m, zone_households[k], now); });

  Municipality& mu = m.municipalities[static_cast<size_t>(zone)];
  mu.persons = static_cast<std::int64_t>(last - first);
  mu.households = static_cast<std::int64_t>(zone_households.size());
}

}  // namespace

void build_population(Model& m) {
  const std::int32_t now = m.first_month();
  for (int z = 0; z < static_cast<int>(m.scenario().zones.size()); ++z) build_zone(m, z, now);
  // Students living outside the region fill the rest of each institution's enrolment,
  // spread evenly over the years of study.
  const double scale = m.config().scale;
  for (size_t k = 0; k < m.institutions.size(); ++k) {
    Institution& in = m.institutions[k];
    if (!in.teaches) continue;
    const double total = m.scenario().institutions[k].students * scale;
    const double outside = std::max(0.0, total - static_cast<double>(in.resident_students));
    for (auto& c : in.outside_cohorts) c = outside / in.programme_years;
  }
}

}  // namespace regio
