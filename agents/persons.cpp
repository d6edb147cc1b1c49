#include "agents/persons.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "sim/compaction.hpp"
#include "sim/model.hpp"
#include "sim/prefetch.hpp"
#include "sim/sampling.hpp"

namespace regio {

namespace {
template <class T>
size_t vbytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}
}  // namespace

size_t PersonStore::append(std::uint32_t new_id) {
  return append_n(new_id, 1);
}

size_t PersonStore::append_n(std::uint32_t first_id, size_t n) {
  const size_t first = id.size(), size = first + n;
  // Capacity in powers of two, as push_back gives from an empty store: the store is
  // appended to zone by zone at the start and person by person later, and its capacity
  // is its memory.
  auto grow = [size](auto& v, auto value) {
    if (size > v.capacity()) v.reserve(std::bit_ceil(size));
    v.resize(size, static_cast<typename std::decay_t<decltype(v)>::value_type>(value));
  };
  grow(id, 0u);
  std::iota(id.begin() + static_cast<std::ptrdiff_t>(first), id.end(), first_id);
  grow(household, k_none);
  grow(next_member, k_none);
  grow(birth_month, 0);
  grow(sex, 0);
  grow(role, idx(Role::head));
  grow(zone, 0);
  grow(education, idx(Education::basic));
  grow(track, idx(Education::basic));
  grow(parent_education, idx(Education::basic));
  grow(field, idx(Field::other));
  grow(status, idx(Status::child));
  grow(status_since, 0);
  grow(institution, k_outside);
  grow(death, k_never);
  grow(next_birth, k_never);
  grow(next_life, k_never);
  grow(life_event, idx(LifeEvent::none));
  grow(next_labour, k_never);
  grow(leave_home, k_never);
  grow(next_union, k_never);
  grow(partnered, 0);
  grow(side_job, 0);
  grow(employer, k_none);
  grow(job_zone, PersonStore::k_no_job_zone);
  grow(job_level, 0);
  grow(mode, 0);
  grow(job_slot, 0);
  grow(next_due, k_never);
  grow(alive, 1);
  return first;
}

void PersonStore::compact() {
  const std::vector<std::uint32_t> keep = kept_rows(alive);
  if (keep.size() == alive.size()) return;
  gather_fields(keep, id, household, next_member, birth_month, sex, role, zone, education, track,
                parent_education, field, status, status_since, institution, death, next_birth,
                next_life, life_event, next_labour, leave_home, next_due, next_union, partnered,
                side_job, employer, job_zone, job_level, mode, job_slot, alive);
}

size_t PersonStore::bytes() const {
  return vbytes(id) + vbytes(household) + vbytes(next_member) + vbytes(birth_month) + vbytes(sex) +
         vbytes(role) + vbytes(zone) + vbytes(education) + vbytes(track) +
         vbytes(parent_education) + vbytes(field) + vbytes(status) + vbytes(status_since) +
         vbytes(institution) + vbytes(death) + vbytes(next_birth) + vbytes(next_life) +
         vbytes(life_event) + vbytes(next_labour) + vbytes(leave_home) + vbytes(next_due) +
         vbytes(next_union) + vbytes(partnered) + vbytes(side_job) + vbytes(employer) +
         vbytes(job_zone) + vbytes(job_level) + vbytes(mode) + vbytes(job_slot) + vbytes(alive);
}

void PersonEvents::clear() {
  deaths.clear(), births.clear(), leavers.clear(), emigrants.clear();
  study_starts.clear(), graduations.clear(), unions.clear(), job_leavers.clear();
  status_moves.clear();
}

void PersonEvents::append(const PersonEvents& o) {
  auto add = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
  add(deaths, o.deaths), add(births, o.births), add(leavers, o.leavers);
  add(emigrants, o.emigrants), add(study_starts, o.study_starts), add(graduations, o.graduations);
  add(unions, o.unions), add(job_leavers, o.job_leavers), add(status_moves, o.status_moves);
}

namespace persons {

namespace {

/// Months a new hbo/wo graduate looks for a regional job before deciding to stay or go
/// (estimate).
constexpr std::int32_t k_graduate_search_months = 3;

double participation(const Model& m, size_t i) {
  return m.scenario().labour.participation[m.persons.education[i]];
}

/// Leaving the labour force: chosen so that participation is stationary,
/// out * p = in * (1 - p).
double labour_exit_rate(const Model& m, size_t i) {
  const double p = participation(m, i);
  const double in = m.scenario().labour.inactivity_exit;
  return p >= 1.0 ? 0.0 : in * (1.0 - p) / std::max(p, 1e-9);
}

std::int32_t after_waiting(std::int32_t now, double months) {
  if (!std::isfinite(months) || months > 1e6) return k_never;
  return now + std::max<std::int32_t>(1, static_cast<std::int32_t>(std::ceil(months)));
}

}  // namespace

double graduate_leave_probability(const Model& m) {
  // Measured against the first year's tightness, as wages and in-migration are: the base
  // chance is the start's. (1 + tightness): with no open posts at all the chance is at
  // its highest, not infinite.
  const double base = m.scenario().labour_market.graduate_leave_base;
  const double ref = m.tightness_reference;
  if (!(ref > 0.0)) return base;
  return std::min(1.0, base * (1.0 + ref) / (1.0 + m.tightness));
}

void set_retirement(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  const std::int32_t r = retirement_month(m, p.birth_month[i]);
  p.next_life[i] = std::max(r, now);
  p.life_event[i] = idx(LifeEvent::retire);
}

namespace {

void choose_track(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  Rng rng = m.rng(Stream::education, p.id[i], now);
  const auto& row = m.scenario().education.track_by_parent[p.parent_education[i]];
  const auto level = static_cast<Education>(rng.categorical(row, k_education_levels));
  p.track[i] = idx(level);
  const std::int32_t b = p.birth_month[i];
  switch (level) {
    case Education::basic:
      p.next_life[i] = september_at_age(b, 18);
      p.life_event[i] = idx(LifeEvent::enter_labour);
      break;
    case Education::mbo:
      p.next_life[i] = september_at_age(b, 16);
      p.life_event[i] = idx(LifeEvent::start_study);
      break;
    case Education::hbo:
      p.next_life[i] = september_at_age(b, 17);
      p.life_event[i] = idx(LifeEvent::start_study);
      break;
    case Education::wo:
      p.next_life[i] = september_at_age(b, 18);
      p.life_event[i] = idx(LifeEvent::start_study);
      break;
  }
}

void start_study(Model& m, size_t i, std::int32_t now, PersonEvents& out) {
  auto& p = m.persons;
  const auto& e = m.scenario().education;
  const auto level = static_cast<Education>(p.track[i]);
  Rng rng = m.rng(Stream::education, p.id[i], now);
  const double in_region = level == Education::mbo   ? e.enrolled_in_region_mbo.value
                           : level == Education::hbo ? e.enrolled_in_region_hbo.value
                                                     : e.enrolled_in_region_wo.value;
  int inst = -1;
  const double u_region = rng.uniform(), u_choice = rng.uniform(), u_field = rng.uniform();
  if (u_region < in_region) inst = institutions::choose(m, level, u_choice);
  int years = outside_programme_years(level);
  if (inst >= 0) {
    const Institution& in = m.institutions[static_cast<size_t>(inst)];
    p.institution[i] = static_cast<std::uint16_t>(inst);
    p.field[i] = static_cast<std::uint8_t>(pick(in.field_shares, u_field));
    years = in.programme_years;
  } else {
    p.institution[i] = PersonStore::k_outside;
    p.field[i] =
        static_cast<std::uint8_t>(pick(m.scenario().field_by_education[idx(level)], u_field));
  }
  p.status[i] = idx(Status::student);
  p.status_since[i] = now;
  p.side_job[i] = rng.bernoulli(m.scenario().labour.student_job_share) ? 1 : 0;
  p.next_labour[i] = k_never;
  // September start, July graduation `years` later.
  p.next_life[i] = now + 12 * years - 2;
  p.life_event[i] = idx(LifeEvent::graduate);
  out.study_starts.push_back(p.id[i]);
}

void graduate(Model& m, size_t i, std::int32_t now, PersonEvents& out) {
  auto& p = m.persons;
  const auto& e = m.scenario().education;
  const auto level = static_cast<Education>(p.track[i]);
  Rng rng = m.rng(Stream::education, p.id[i], now);
  if (rng.bernoulli(institutions::completion_rate(m, level)))
    p.education[i] = std::max<std::uint8_t>(p.education[i], idx(level));
  out.graduations.push_back(p.id[i]);
  const double leave = level == Education::hbo  ? e.graduate_leave_hbo.value
                       : level == Education::wo ? e.graduate_leave_wo.value
                                                : 0.0;
  if (rng.bernoulli(leave)) {
    out.emigrants.push_back(p.id[i]);
    return;
  }
  enter_labour_market(m, i, now);
  // Higher-educated graduates without a regional job after a few months may leave.
  if (level == Education::hbo || level == Education::wo) {
    p.next_life[i] = now + k_graduate_search_months;
    p.life_event[i] = idx(LifeEvent::graduate_decision);
  }
}

/// A graduate still unemployed after the search months leaves the region with a
/// probability that falls as the labour market tightens (more vacancies per seeker; see
/// graduate_leave_probability).
void graduate_decision(Model& m, size_t i, std::int32_t now, PersonEvents& out) {
  auto& p = m.persons;
  if (p.status[i] == idx(Status::unemployed)) {
    Rng rng = m.rng(Stream::education, p.id[i], now);
    if (rng.bernoulli(graduate_leave_probability(m))) {
      out.emigrants.push_back(p.id[i]);
      return;
    }
  }
  set_retirement(m, i, now);
}

/// Labour-force moves that are the person's own decision: inactive adults start
/// looking for work; the unemployed may give up looking; the employed quit (into
/// unemployment) or leave the labour force. Finding a job is the labour market's
/// business (sim/labour_market.cpp), layoffs the firms'.
void labour_transition(Model& m, size_t i, std::int32_t now, PersonEvents& out) {
  auto& p = m.persons;
  Rng rng = m.rng(Stream::labour, p.id[i], now);
  const auto status = static_cast<Status>(p.status[i]);
  const double exit = labour_exit_rate(m, i);
  Status next = status;
  if (status == Status::inactive) {
    next = Status::unemployed;
  } else if (status == Status::unemployed) {
    next = Status::inactive;
  } else {
    const double quit = m.scenario().labour_market.quit_rate;
    next = rng.uniform() * (quit + exit) < exit ? Status::inactive : Status::unemployed;
    out.job_leavers.push_back(p.id[i]);
  }
  p.status[i] = idx(next);
  p.status_since[i] = now;
  schedule_labour(m, i, now, rng);
}

}  // namespace

int outside_programme_years(Education level) {
  switch (level) {
    case Education::mbo:
      return 3;
    case Education::hbo:
      return 4;
    case Education::wo:
      return 5;  // bachelor plus master
    default:
      return 0;
  }
}

std::int32_t september_at_age(std::int32_t birth, int age_years) {
  const std::int32_t reach = birth + 12 * age_years;
  const int month_of_year = ((reach % 12) + 12) % 12;  // 0 = January
  return reach + ((8 - month_of_year) + 12) % 12;      // 8 = September
}

std::int32_t retirement_month(const Model& m, std::int32_t birth) {
  const auto& steps = m.scenario().demography.pension;
  // The first month in which the person's age reaches the pension age in force that
  // year. Within the years of one step the age is fixed, so the candidate of step k is
  // the later of "reaches its age" and "its first month"; it counts if it still falls
  // before the next step begins. The first step also covers the years before it.
  for (size_t k = 0; k < steps.size(); ++k) {
    const std::int32_t begins =
        k == 0 ? std::numeric_limits<std::int32_t>::min() : steps[k].from_year * 12;
    const std::int32_t ends = k + 1 < steps.size() ? steps[k + 1].from_year * 12
                                                   : std::numeric_limits<std::int32_t>::max();
    const std::int32_t t = std::max(birth + steps[k].age_months, begins);
    if (t < ends) return t;
  }
  return birth + steps.back().age_months;
}

void schedule_labour(Model& m, size_t i, std::int32_t now, Rng& rng) {
  auto& p = m.persons;
  const auto status = static_cast<Status>(p.status[i]);
  double rate = 0.0;
  if (status == Status::employed)
    rate = m.scenario().labour_market.quit_rate + labour_exit_rate(m, i);
  else if (status == Status::unemployed)
    rate = labour_exit_rate(m, i);
  else if (status == Status::inactive)
    rate = m.scenario().labour.inactivity_exit;
  p.next_labour[i] = rate > 0.0 ? after_waiting(now, rng.exponential(rate)) : k_never;
  p.refresh_due(i);
}

void on_hired(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  if (p.status[i] != idx(Status::employed)) {
    p.status[i] = idx(Status::employed);
    p.status_since[i] = now;
  }
  Rng rng = m.rng(Stream::hiring, p.id[i], now);
  schedule_labour(m, i, now, rng);
}

void enter_labour_market(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  Rng rng = m.rng(Stream::labour, p.id[i], now);
  // Active entrants look for work: jobs come from the labour market.
  const Status s = rng.bernoulli(participation(m, i)) ? Status::unemployed : Status::inactive;
  p.status[i] = idx(s);
  p.status_since[i] = now;
  p.side_job[i] = 0;
  set_retirement(m, i, now);
  schedule_labour(m, i, now, rng);
}

void schedule_union(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  p.next_union[i] = k_never;
  if (!p.partnered[i]) {
    Rng rng = m.rng(Stream::unions, p.id[i], now);
    const std::int32_t b = p.birth_month[i];
    const std::int32_t at =
        m.schedules.union_formation.sample(std::max(now - b, 18 * 12), rng.uniform());
    if (at != k_never) p.next_union[i] = std::max(b + at, now);
  }
}

void schedule_person(Model& m, size_t i, std::int32_t now) {
  auto& p = m.persons;
  const std::int32_t b = p.birth_month[i];
  const std::int32_t age = now - b;
  Rng rng = m.rng(Stream::mortality, p.id[i], now);
  const std::int32_t d = m.schedules.mortality.sample(age, rng.uniform());
  p.death[i] = d == k_never ? k_never : b + d;
  if (p.sex[i] == idx(Sex::female)) {
    const std::int32_t nb = m.schedules.fertility.sample(age, rng.uniform());
    p.next_birth[i] = nb == k_never ? k_never : b + nb;
  }
  if (p.role[i] == idx(Role::child)) {
    const std::int32_t lh = m.schedules.leave_home.sample(std::max(age, 16 * 12), rng.uniform());
    p.leave_home[i] = lh == k_never ? k_never : b + lh;
  }
  schedule_union(m, i, now);
  p.refresh_due(i);
}

void step_chunk(Model& m, size_t begin, size_t end, std::int32_t now, PersonEvents& out) {
  auto& p = m.persons;
  // The persons due this month, found first (the hot loop: one comparison per person and
  // month), then handled in order. Few are due in a month, and each one's dates lie in
  // a dozen arrays: those of the persons a few ahead are fetched while one is handled
  // (waiting for them one at a time took a third of this step).
  thread_local std::vector<std::uint32_t> due_now;
  due_now.clear();
  const std::int32_t* due = p.next_due.data();
  for (size_t i = begin; i < end; ++i)
    if (due[i] == now) due_now.push_back(static_cast<std::uint32_t>(i));
  constexpr size_t k_ahead = 8;
  auto fetch = [&](size_t i) {
    prefetch(&p.death[i], &p.birth_month[i], &p.next_birth[i], &p.leave_home[i], &p.next_union[i],
             &p.next_life[i], &p.next_labour[i]);
  };
  for (size_t k = 0; k < std::min(k_ahead, due_now.size()); ++k) fetch(due_now[k]);
  for (size_t k = 0; k < due_now.size(); ++k) {
    if (k + k_ahead < due_now.size()) fetch(due_now[k + k_ahead]);
    const size_t i = due_now[k];
    if (p.death[i] == now) {
      out.deaths.push_back(p.id[i]);
      p.next_due[i] = k_never;
      continue;
    }
    // (A person's status changes here only in its own events below.)
    const std::uint8_t status_before = p.status[i];
    const std::int32_t age = now - p.birth_month[i];
    if (p.next_birth[i] == now) {
      out.births.push_back(p.id[i]);
      Rng rng = m.rng(Stream::fertility, p.id[i], now);
      const std::int32_t nb = m.schedules.fertility.sample(age + 1, rng.uniform());
      p.next_birth[i] = nb == k_never ? k_never : p.birth_month[i] + nb;
    }
    if (p.leave_home[i] == now) {
      p.leave_home[i] = k_never;
      if (p.role[i] == idx(Role::child)) {
        Rng rng = m.rng(Stream::leave_home, p.id[i], now);
        if (rng.bernoulli(m.scenario().demography.leave_home_out_of_region))
          out.emigrants.push_back(p.id[i]);
        else
          out.leavers.push_back(p.id[i]);
      }
    }
    if (p.next_union[i] == now) {
      p.next_union[i] = k_never;
      if (!p.partnered[i]) out.unions.push_back(p.id[i]);
    }
    for (int guard = 0; guard < 4 && p.next_life[i] == now; ++guard) {
      const auto ev = static_cast<LifeEvent>(p.life_event[i]);
      p.next_life[i] = k_never;
      p.life_event[i] = idx(LifeEvent::none);
      switch (ev) {
        case LifeEvent::choose_track:
          choose_track(m, i, now);
          break;
        case LifeEvent::start_study:
          start_study(m, i, now, out);
          break;
        case LifeEvent::graduate:
          graduate(m, i, now, out);
          break;
        case LifeEvent::enter_labour:
          enter_labour_market(m, i, now);
          break;
        case LifeEvent::graduate_decision:
          graduate_decision(m, i, now, out);
          break;
        case LifeEvent::retire:
          if (p.status[i] == idx(Status::employed)) out.job_leavers.push_back(p.id[i]);
          p.status[i] = idx(Status::retired);
          p.status_since[i] = now;
          p.next_labour[i] = k_never;
          break;
        case LifeEvent::none:
          break;
      }
    }
    if (p.next_labour[i] == now) {
      const auto s = static_cast<Status>(p.status[i]);
      if (s == Status::employed || s == Status::unemployed || s == Status::inactive)
        labour_transition(m, i, now, out);
      else
        p.next_labour[i] = k_never;
    }
    if (p.status[i] != status_before)
      out.status_moves.push_back({p.zone[i], status_before, p.status[i]});
    p.refresh_due(i);
  }
}

}  // namespace persons
}  // namespace regio
