#include "sim/observer.hpp"

#include <fmt/format.h>

#include <numeric>

#include "sim/model.hpp"

namespace regio::observer {

namespace {

/// Counts of the 1 January snapshot, tallied in parallel chunks and summed in chunk
/// order (integer counts, so the sum is exact anyway).
struct Tally {
  std::vector<double> by_age_status, by_sex, adults_by_education, students_by_level,
      inst_resident_by_field;
  Tally(size_t zones, size_t insts)
      : by_age_status(zones * k_age_groups * k_statuses, 0.0),
        by_sex(zones * 2, 0.0),
        adults_by_education(zones * k_education_levels, 0.0),
        students_by_level(zones * k_education_levels, 0.0),
        inst_resident_by_field(insts * k_fields, 0.0) {}
  void add(const Tally& o) {
    auto sum = [](auto& a, const auto& b) {
      for (size_t k = 0; k < a.size(); ++k) a[k] += b[k];
    };
    sum(by_age_status, o.by_age_status), sum(by_sex, o.by_sex);
    sum(adults_by_education, o.adults_by_education), sum(students_by_level, o.students_by_level);
    sum(inst_resident_by_field, o.inst_resident_by_field);
  }
};

void snapshot(Model& m, std::int32_t date) {
  const size_t zones = m.municipalities.size(), insts = m.institutions.size();
  const auto& p = m.persons;
  std::vector<Tally> parts(m.chunk_count(p.size()), Tally(zones, insts));
  m.for_chunks(p.size(), [&](size_t c, size_t b, size_t e) {
    Tally& t = parts[c];
    for (size_t i = b; i < e; ++i) {
      if (!p.alive[i]) continue;
      const size_t z = p.zone[i];
      const int age = (date - p.birth_month[i]) / 12;
      t.by_age_status[(z * k_age_groups + static_cast<size_t>(age_group_of(age))) * k_statuses +
                      p.status[i]] += 1;
      t.by_sex[z * 2 + p.sex[i]] += 1;
      if (age >= 25 && age < 65)
        t.adults_by_education[z * k_education_levels + p.education[i]] += 1;
      if (p.status[i] == idx(Status::student)) {
        t.students_by_level[z * k_education_levels + p.track[i]] += 1;
        if (p.institution[i] != PersonStore::k_outside)
          t.inst_resident_by_field[p.institution[i] * k_fields + p.field[i]] += 1;
      }
    }
  });
  Tally total(zones, insts);
  for (const auto& t : parts) total.add(t);
  Series& s = m.series;
  s.dates.push_back(fmt::format("{}-01-01", date / 12));
  auto append = [](std::vector<double>& dst, const std::vector<double>& src) {
    dst.insert(dst.end(), src.begin(), src.end());
  };
  append(s.by_age_status, total.by_age_status);
  append(s.by_sex, total.by_sex);
  append(s.adults_by_education, total.adults_by_education);
  append(s.students_by_level, total.students_by_level);
  for (size_t k = 0; k < insts; ++k) {
    const Institution& in = m.institutions[k];
    s.inst_students.push_back(in.students());
    s.inst_resident_students.push_back(static_cast<double>(in.resident_students));
    s.inst_staff.push_back(std::accumulate(in.staff.begin(), in.staff.end(), 0.0));
    const double outside = in.outside_students();
    for (int f = 0; f < k_fields; ++f)
      s.inst_students_by_field.push_back(total.inst_resident_by_field[k * k_fields + f] +
                                         outside * in.field_shares[f]);
  }
}

}  // namespace

void start(Model& m) {
  for (auto& mu : m.municipalities) mu.persons_at_month_start = mu.persons;
  snapshot(m, m.first_month());
}

void record_month(Model& m) {
  Series& s = m.series;
  s.months.push_back(Month{m.now()}.str());
  for (auto& mu : m.municipalities) {
    s.population.push_back(static_cast<double>(mu.persons));
    s.households.push_back(static_cast<double>(mu.households));
    s.dwellings.push_back(mu.dwellings);
    s.pressure.push_back(mu.housing_pressure());
    s.births.push_back(static_cast<double>(mu.births));
    s.deaths.push_back(static_cast<double>(mu.deaths));
    s.in_migrants.push_back(static_cast<double>(mu.in_migrants));
    s.out_migrants.push_back(static_cast<double>(mu.out_migrants));
    s.capped.push_back(static_cast<double>(mu.in_migration_capped));
    s.blocked_leavers.push_back(static_cast<double>(mu.blocked_leavers));
    mu.births = mu.deaths = mu.in_migrants = mu.out_migrants = 0;
    mu.in_migration_capped = mu.blocked_leavers = 0;
    mu.persons_at_month_start = mu.persons;
  }
}

void record_year_end(Model& m) {
  Series& s = m.series;
  s.years.push_back(fmt::format("{}", m.now() / 12));
  for (auto& mu : m.municipalities) {
    for (int l = 0; l < k_education_levels; ++l)
      s.graduates.push_back(static_cast<double>(mu.graduates[l]));
    s.graduates_leaving.push_back(static_cast<double>(mu.graduates_leaving));
    mu.graduates.fill(0);
    mu.graduates_leaving = 0;
  }
  for (auto& in : m.institutions) {
    // Outside intake includes those who then moved in (counted apart below).
    s.inst_intake.push_back(static_cast<double>(in.resident_intake_year) + in.outside_intake_year);
    s.inst_graduates.push_back(static_cast<double>(in.resident_graduates_year) +
                               in.outside_graduates_year);
    s.inst_in_migrant_students.push_back(static_cast<double>(in.in_migrant_students_year));
    in.resident_intake_year = in.resident_graduates_year = in.in_migrant_students_year = 0;
    in.outside_intake_year = in.outside_graduates_year = 0.0;
  }
  snapshot(m, m.now() + 1);
}

void check_flows(const Model& m) {
  for (const auto& mu : m.municipalities) {
    const std::int64_t expected =
        mu.persons_at_month_start + mu.births + mu.in_migrants - mu.deaths - mu.out_migrants;
    if (expected != mu.persons)
      throw InvariantError(
          fmt::format("{} in {}: persons {} != start {} + births {} + in {} - deaths {} - out {}",
                      Month{m.now()}.str(), mu.name, mu.persons, mu.persons_at_month_start,
                      mu.births, mu.in_migrants, mu.deaths, mu.out_migrants));
  }
}

output::Results to_results(const Model& m) {
  const Series& s = m.series;
  output::Results r;
  auto names = [](const auto& arr) { return std::vector<std::string>(arr.begin(), arr.end()); };
  std::vector<std::string> zones, insts;
  for (const auto& mu : m.municipalities) zones.push_back(mu.name);
  for (const auto& in : m.scenario().institutions) insts.push_back(in.name);
  r.axes = {
      {"month", s.months, "simulated month (values are at the end of the month or over it)"},
      {"date", s.dates, "1 January snapshots: the start and the end of each simulated year"},
      {"year", s.years, "completed calendar year"},
      {"zone", zones, "internal zone (municipality)"},
      {"age_group", names(k_age_group_names), "age in completed years"},
      {"status", names(k_status_names), "main activity"},
      {"sex", {"male", "female"}, "sex"},
      {"level", names(k_education_names), "education level (basic = up to havo/vwo)"},
      {"institution", insts, "knowledge institution"},
      {"field", names(k_field_names), "field of study or education"},
  };
  auto add = [&](std::string path, std::vector<std::string> dims, std::string units,
                 std::string description, const std::vector<double>& values, bool integer) {
    r.datasets.push_back(output::Dataset{std::move(path), std::move(dims), std::move(units),
                                         std::move(description), integer, values});
  };
  add("/demography/population", {"month", "zone"}, "persons", "inhabitants at the end of the month",
      s.population, true);
  add("/demography/births", {"month", "zone"}, "persons/month", "live births", s.births, true);
  add("/demography/deaths", {"month", "zone"}, "persons/month", "deaths", s.deaths, true);
  add("/demography/in_migrants", {"month", "zone"}, "persons/month",
      "persons moving into the region (households and students)", s.in_migrants, true);
  add("/demography/out_migrants", {"month", "zone"}, "persons/month",
      "persons moving out of the region", s.out_migrants, true);
  add("/demography/population_by_age_status", {"date", "zone", "age_group", "status"}, "persons",
      "inhabitants on 1 January by age group and main activity", s.by_age_status, true);
  add("/demography/population_by_sex", {"date", "zone", "sex"}, "persons",
      "inhabitants on 1 January by sex", s.by_sex, true);
  add("/demography/adults_by_education", {"date", "zone", "level"}, "persons",
      "residents aged 25-64 on 1 January by highest completed level", s.adults_by_education, true);
  add("/households/households", {"month", "zone"}, "households",
      "private households at the end of the month", s.households, true);
  add("/households/blocked_leavers", {"month", "zone"}, "persons/month",
      "young adults who could not leave the parental home for lack of a free dwelling",
      s.blocked_leavers, true);
  add("/housing/dwellings", {"month", "zone"}, "dwellings",
      "dwelling stock at the end of the month (fractional while construction accrues)", s.dwellings,
      false);
  add("/housing/pressure", {"month", "zone"}, "1", "housing pressure: households per dwelling",
      s.pressure, false);
  add("/housing/in_migration_capped", {"month", "zone"}, "households/month",
      "households that wanted to move in but found no free dwelling", s.capped, true);
  add("/education/students", {"date", "zone", "level"}, "persons",
      "resident students on 1 January by level studied", s.students_by_level, true);
  add("/education/graduates", {"year", "zone", "level"}, "persons/year",
      "residents completing a programme, by level", s.graduates, true);
  add("/education/graduates_leaving", {"year", "zone"}, "persons/year",
      "graduates leaving the region on graduation", s.graduates_leaving, true);
  add("/institutions/students", {"date", "institution"}, "persons",
      "enrolled students on 1 January (residents and students living outside the region)",
      s.inst_students, false);
  add("/institutions/resident_students", {"date", "institution"}, "persons",
      "enrolled students living in the region on 1 January", s.inst_resident_students, true);
  add("/institutions/students_by_field", {"date", "institution", "field"}, "persons",
      "enrolled students on 1 January by field", s.inst_students_by_field, false);
  add("/institutions/staff", {"date", "institution"}, "persons", "employees on 1 January",
      s.inst_staff, false);
  add("/institutions/intake", {"year", "institution"}, "persons/year", "first-year students",
      s.inst_intake, false);
  add("/institutions/graduates", {"year", "institution"}, "persons/year",
      "students completing a programme", s.inst_graduates, false);
  add("/institutions/in_migrant_students", {"year", "institution"}, "persons/year",
      "first-year students moving into the region", s.inst_in_migrant_students, true);
  return r;
}

}  // namespace regio::observer
