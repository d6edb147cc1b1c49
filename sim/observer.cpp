#include "sim/observer.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_invoke.h>

#include <algorithm>
#include <numeric>

#include "sim/model.hpp"

namespace regio::observer {

namespace {

/// Counts of the 1 January snapshot, tallied in parallel chunks and summed (integer
/// counts: exact, whatever the chunks). Integers rather than the doubles of the series:
/// an increment of a double waits for the one before it on the same counter to be
/// stored, and most increments of a chunk fall on a few counters.
struct Tally {
  std::vector<std::int64_t> by_age_status, by_sex, adults_by_education, students_by_level,
      inst_resident_by_field;
  /// Residents' jobs per (home zone, job zone, mode), as commuting_cell gives the cells.
  std::vector<std::int64_t> commuting;
  Tally(size_t zones, size_t insts, size_t commuting_cells)
      : by_age_status(zones * k_age_groups * k_statuses, 0),
        by_sex(zones * 2, 0),
        adults_by_education(zones * k_education_levels, 0),
        students_by_level(zones * k_education_levels, 0),
        inst_resident_by_field(insts * k_fields, 0),
        commuting(commuting_cells, 0) {}
  void add(const Tally& o) {
    auto sum = [](auto& a, const auto& b) {
      for (size_t k = 0; k < a.size(); ++k) a[k] += b[k];
    };
    sum(by_age_status, o.by_age_status), sum(by_sex, o.by_sex);
    sum(adults_by_education, o.adults_by_education), sum(students_by_level, o.students_by_level);
    sum(inst_resident_by_field, o.inst_resident_by_field), sum(commuting, o.commuting);
  }
};

struct CommuteTally {
  std::vector<double> matrix;   ///< [origin][destination], all zones
  std::vector<double> minutes;  ///< per internal home zone, average one-way minutes
  std::vector<double> km;       ///< per internal home zone, average one-way km
  double car_km = 0.0;          ///< per month, both directions
  double delay_minutes = 0.0;   ///< average one-way congestion delay per car commute
};

/// Working days per month and trips per working day used for car-km (estimate).
constexpr double k_commute_days = 21.0, k_trips_per_day = 2.0;

/// The commuting counters: jobs per (resident?, origin, destination, mode).
size_t commuting_cells(const Model& m) {
  const auto nzall = static_cast<size_t>(m.commuting.zones());
  return 2 * nzall * nzall * k_modes;
}
size_t commuting_cell(size_t nzall, size_t resident, size_t o, size_t d, size_t mode) {
  return ((resident * nzall + o) * nzall + d) * k_modes + mode;
}

/// The outside workers' jobs (external home zone -> job zone) into `counts`.
void count_outside_commutes(const Model& m, std::vector<std::int64_t>& counts) {
  const auto nzall = static_cast<size_t>(m.commuting.zones());
  const size_t nz = m.municipalities.size();
  const auto& w = m.outside_workers;
  for (size_t o = 0; o < w.size(); ++o)
    if (w.alive[o] && w.employer[o] != k_none)
      ++counts[commuting_cell(nzall, 0, nz + w.home[o], w.job_zone[o], w.mode[o])];
}

/// Commuting from the jobs held now, counted per cell (commuting_cell): residents (home
/// zone -> job zone) and outside workers (external home zone -> job zone). Integer
/// counts: every figure below is the same for any number of threads or chunk size.
CommuteTally tally_commuting(const Model& m, const std::vector<std::int64_t>& counts) {
  const Commuting& c = m.commuting;
  const size_t nzall = static_cast<size_t>(c.zones());
  const size_t nz = m.municipalities.size();
  auto cell = [&](size_t resident, size_t o, size_t d, size_t mode) {
    return commuting_cell(nzall, resident, o, d, mode);
  };

  CommuteTally t;
  t.matrix.assign(nzall * nzall, 0.0);
  t.minutes.assign(nz, 0.0);
  t.km.assign(nz, 0.0);
  std::vector<double> workers(nz, 0.0);
  double car_trips = 0.0, delay = 0.0;
  for (size_t r = 0; r < 2; ++r)
    for (size_t o = 0; o < nzall; ++o)
      for (size_t d = 0; d < nzall; ++d)
        for (size_t mode = 0; mode < static_cast<size_t>(k_modes); ++mode) {
          const auto n = static_cast<double>(counts[cell(r, o, d, mode)]);
          if (n == 0.0) continue;
          const int oi = static_cast<int>(o), di = static_cast<int>(d);
          const double km = c.km(oi, di);
          t.matrix[o * nzall + d] += n;
          if (r == 1) {
            t.minutes[o] += n * c.minutes(oi, di, static_cast<Mode>(mode));
            t.km[o] += n * km;
            workers[o] += n;
          }
          if (mode == static_cast<size_t>(Mode::car)) {
            t.car_km += n * km * k_trips_per_day * k_commute_days;
            car_trips += n;
            delay += n * c.car_delay(oi, di);
          }
        }
  for (size_t z = 0; z < nz; ++z)
    if (workers[z] > 0) t.minutes[z] /= workers[z], t.km[z] /= workers[z];
  t.delay_minutes = car_trips > 0 ? delay / car_trips : 0.0;
  return t;
}

/// Monthly economic figures per job zone and for the region.
void record_economy(Model& m) {
  Series& s = m.series;
  const auto& fs = m.firms;
  const auto& sc = m.scenario();
  const size_t nz = m.municipalities.size(), ns = sc.sectors.size();
  // Sums over the firms per fixed block in parallel, then the blocks in order: the same
  // figures for any number of threads and any chunk size.
  constexpr size_t k_block = 4096;
  struct Part {
    std::vector<double> jobs, vac, va, out, exp, wages;
    double firm_sales = 0.0, inputs = 0.0;
    std::int64_t outsiders = 0;
  };
  std::vector<Part> parts((fs.size() + k_block - 1) / k_block);
  tbb::parallel_for(size_t{0}, parts.size(), [&](size_t c) {
    Part& p = parts[c];
    const size_t b = c * k_block, e = std::min(fs.size(), b + k_block);
    for (auto* v : {&p.jobs, &p.vac, &p.va, &p.out, &p.exp, &p.wages}) v->assign(nz, 0.0);
    // Neighbouring firms mostly share a zone (the store is built zone by zone, and each
    // month's entrants zone by zone): a zone's sums are carried in registers over a run of
    // its firms and stored when the zone changes. Summed through the zone arrays, every
    // addition waited for the previous one's store to be read back. The additions are the
    // same, in the same order.
    size_t z = nz;  // the zone of the run (none yet)
    double jobs = 0.0, vac = 0.0, va = 0.0, out = 0.0, exp = 0.0, wages = 0.0;
    double firm_sales = 0.0, inputs = 0.0;
    std::int64_t outsiders = 0;
    auto store = [&] {
      if (z == nz) return;
      p.jobs[z] = jobs, p.vac[z] = vac, p.va[z] = va;
      p.out[z] = out, p.exp[z] = exp, p.wages[z] = wages;
    };
    for (size_t f = b; f < e; ++f) {
      if (!fs.alive[f]) continue;
      if (fs.zone[f] != z) {
        store();
        z = fs.zone[f];
        jobs = p.jobs[z], vac = p.vac[z], va = p.va[z];
        out = p.out[z], exp = p.exp[z], wages = p.wages[z];
      }
      jobs += fs.headcount(f);
      for (int l = 0; l < k_education_levels; ++l) {
        vac += fs.vacancies[f][l];
        outsiders += fs.outside_staff[f][l];
      }
      va += fs.output[f] * (1.0 - sc.sectors[fs.sector[f]].input_share);
      out += fs.output[f];
      exp += fs.sales_exports[f];
      wages += fs.wage_bill[f];
      firm_sales += fs.sales_firms[f];
      inputs += fs.inputs[f];
    }
    store();
    p.firm_sales = firm_sales, p.inputs = inputs, p.outsiders = outsiders;
  });
  std::vector<double> jobs(nz), vac(nz), va(nz), out(nz), exp(nz), wages(nz);
  double firm_sales = 0.0, inputs = 0.0;
  std::int64_t outsiders = 0;
  for (const Part& p : parts) {
    for (size_t z = 0; z < nz; ++z) {
      jobs[z] += p.jobs[z], vac[z] += p.vac[z], va[z] += p.va[z];
      out[z] += p.out[z], exp[z] += p.exp[z], wages[z] += p.wages[z];
    }
    firm_sales += p.firm_sales, inputs += p.inputs, outsiders += p.outsiders;
  }
  std::int64_t out_commuters = 0;
  for (size_t z = 0; z < nz; ++z) {
    Municipality& mu = m.municipalities[z];
    s.jobs.push_back(jobs[z]);
    s.vacancies.push_back(vac[z]);
    s.value_added.push_back(va[z]);
    s.output.push_back(out[z]);
    s.exports.push_back(exp[z]);
    s.wage_bill.push_back(wages[z]);
    s.firm_entries.push_back(static_cast<double>(mu.firm_entries));
    s.firm_exits.push_back(static_cast<double>(mu.firm_exits));
    mu.firm_entries = mu.firm_exits = 0;
    mu.startups_month = 0;
    const double employed = static_cast<double>(mu.status_count[idx(Status::employed)]);
    const double unemployed = static_cast<double>(mu.status_count[idx(Status::unemployed)]);
    s.unemployed.push_back(unemployed);
    s.employed_residents.push_back(employed);
    s.unemployment_rate.push_back(employed + unemployed > 0 ? unemployed / (employed + unemployed)
                                                            : 0.0);
    for (auto v : mu.out_commuters) out_commuters += v;
  }
  s.tightness.push_back(m.tightness);
  s.field_match.push_back(m.field_match);
  s.regional_sourcing.push_back(inputs > 0.0 ? firm_sales / inputs : 0.0);
  s.in_commuters.push_back(static_cast<double>(outsiders));
  s.out_commuters.push_back(static_cast<double>(out_commuters));
  s.supply_links.push_back(static_cast<double>(m.supply_chain.edges()));
  for (size_t k = 0; k < ns; ++k) {
    // Average over the sector's jobs at the start's level mix.
    double w = 0.0;
    for (int l = 0; l < k_education_levels; ++l)
      w += sc.sectors[k].education[l] * m.wage(static_cast<int>(k), l);
    s.average_wage.push_back(w);
  }
  for (int a = 0; a < k_account_sectors; ++a)
    s.net_lending.push_back(m.accounts.net_lending(static_cast<Account>(a)));
}

void snapshot(Model& m, std::int32_t date) {
  const size_t zones = m.municipalities.size(), insts = m.institutions.size();
  const auto& p = m.persons;
  const size_t ccells = commuting_cells(m);
  const auto nzall = static_cast<size_t>(m.commuting.zones());
  std::vector<Tally> parts(m.chunk_count(p.size()), Tally(zones, insts, ccells));
  // The residents in parallel chunks (their commutes in the same pass); beside them, the
  // outside workers' commutes and the firms' figures (sums of whole numbers: exact in any
  // order).
  std::vector<std::int64_t> outside_commutes(ccells, 0);
  const size_t ns = m.scenario().sectors.size();
  std::vector<double> jobs(zones * ns, 0.0), est(zones * ns, 0.0), open(zones * ns, 0.0);
  auto firms_and_outside = [&] {
    count_outside_commutes(m, outside_commutes);
    for (size_t f = 0; f < m.firms.size(); ++f) {
      if (!m.firms.alive[f]) continue;
      const size_t cell = m.firms.zone[f] * ns + m.firms.sector[f];
      jobs[cell] += m.firms.headcount(f);
      est[cell] += 1.0;
      open[cell] += m.firms.open_positions(f);
    }
  };
  auto residents = [&] {
    m.for_chunks(p.size(), [&](size_t c, size_t b, size_t e) {
      Tally& t = parts[c];
      for (size_t i = b; i < e; ++i) {
        if (!p.alive[i]) continue;
        const size_t z = p.zone[i];
        if (p.job_zone[i] != PersonStore::k_no_job_zone)
          ++t.commuting[commuting_cell(nzall, 1, z, p.job_zone[i], p.mode[i])];
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
  };
  tbb::parallel_invoke(residents, firms_and_outside);
  Tally total(zones, insts, ccells);
  for (const auto& t : parts) total.add(t);
  Series& s = m.series;
  s.dates.push_back(fmt::format("{}-01-01", date / 12));
  auto append = [](std::vector<double>& dst, const auto& src) {
    dst.insert(dst.end(), src.begin(), src.end());
  };
  append(s.by_age_status, total.by_age_status);
  append(s.by_sex, total.by_sex);
  append(s.adults_by_education, total.adults_by_education);
  append(s.students_by_level, total.students_by_level);
  // Jobs and establishments by zone and sector; commuting.
  {
    append(s.jobs_by_sector, jobs);
    append(s.establishments, est);
    append(s.vacancies_by_sector, open);
    for (size_t k = 0; k < ccells; ++k) total.commuting[k] += outside_commutes[k];
    const CommuteTally t = tally_commuting(m, total.commuting);
    append(s.commuting_matrix, t.matrix);
    append(s.commute_minutes, t.minutes);
    append(s.commute_km, t.km);
    s.car_km.push_back(t.car_km);
    s.congestion_delay.push_back(t.delay_minutes);
  }
  for (size_t k = 0; k < insts; ++k) {
    const Institution& in = m.institutions[k];
    s.inst_students.push_back(in.students());
    s.inst_resident_students.push_back(static_cast<double>(in.resident_students));
    s.inst_staff.push_back(std::accumulate(in.staff.begin(), in.staff.end(), 0.0));
    const double outside = in.outside_students();
    for (int f = 0; f < k_fields; ++f)
      s.inst_students_by_field.push_back(
          static_cast<double>(total.inst_resident_by_field[k * k_fields + f]) +
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
  record_economy(m);
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
  std::vector<std::string> sectors, all_zones = zones;
  for (const auto& sec : m.scenario().sectors) sectors.push_back(sec.key);
  for (const auto& e : m.scenario().external_zones) all_zones.push_back(e.name);
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
      {"sector", sectors, "sector of the economy"},
      {"account", names(k_account_names), "institutional sector of the money-flow accounts"},
      {"origin", all_zones, "home zone of commuters (internal zones, then external zones)"},
      {"destination", all_zones, "job zone of commuters (internal zones, then external zones)"},
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
  add("/economy/jobs", {"month", "zone"}, "jobs",
      "filled positions at regional firms and institutions, by job zone", s.jobs, true);
  add("/economy/vacancies", {"month", "zone"}, "jobs",
      "open positions after the month's matching, by job zone", s.vacancies, true);
  add("/economy/value_added", {"month", "zone"}, "EUR/month",
      "value added (output x (1 - input share)), 2026 prices", s.value_added, false);
  add("/economy/output", {"month", "zone"}, "EUR/month", "gross output of firms and institutions",
      s.output, false);
  add("/economy/exports", {"month", "zone"}, "EUR/month",
      "sales to buyers outside the region (exports)", s.exports, false);
  add("/economy/wage_bill", {"month", "zone"}, "EUR/month",
      "wages paid by firms and institutions in the zone", s.wage_bill, false);
  add("/economy/firm_entries", {"month", "zone"}, "firms/month",
      "start-ups, spin-offs and inward investors", s.firm_entries, true);
  add("/economy/firm_exits", {"month", "zone"}, "firms/month",
      "bankruptcies and closures without successor", s.firm_exits, true);
  add("/economy/jobs_by_sector", {"date", "zone", "sector"}, "jobs",
      "filled positions on 1 January", s.jobs_by_sector, true);
  add("/economy/establishments", {"date", "zone", "sector"}, "firms",
      "firms and institutions on 1 January", s.establishments, true);
  add("/economy/vacancies_by_sector", {"date", "zone", "sector"}, "positions",
      "open positions on 1 January (the start's, then those left after December's matching)",
      s.vacancies_by_sector, true);
  add("/economy/average_wage", {"month", "sector"}, "EUR/month",
      "average wage cost per job at the sector's level mix", s.average_wage, false);
  add("/economy/regional_sourcing", {"month"}, "1",
      "share of firms' intermediate inputs bought from regional firms", s.regional_sourcing, false);
  add("/economy/supply_links", {"month"}, "links",
      "supplier-customer links in the supply-chain graph", s.supply_links, true);
  add("/economy/net_lending", {"month", "account"}, "EUR/month",
      "receipts minus payments of each institutional sector (sums to zero)", s.net_lending, false);
  add("/labour/unemployed", {"month", "zone"}, "persons", "unemployed residents, by home zone",
      s.unemployed, true);
  add("/labour/employed_residents", {"month", "zone"}, "persons",
      "employed residents (jobs in and outside the region), by home zone", s.employed_residents,
      true);
  add("/labour/unemployment_rate", {"month", "zone"}, "1",
      "unemployed / (employed + unemployed) residents", s.unemployment_rate, false);
  add("/labour/tightness", {"month"}, "1", "regional vacancies / unemployed residents", s.tightness,
      false);
  add("/labour/field_match", {"month"}, "1",
      "share of the month's hires into regional posts that ask for a field (mbo and up) who "
      "come from that field (0 when there were none)",
      s.field_match, false);
  add("/labour/in_commuters", {"month"}, "persons", "outside workers holding regional jobs",
      s.in_commuters, true);
  add("/labour/out_commuters", {"month"}, "persons", "residents holding jobs outside the region",
      s.out_commuters, true);
  add("/commuting/matrix", {"date", "origin", "destination"}, "persons",
      "commuters by home and job zone on 1 January", s.commuting_matrix, true);
  add("/commuting/minutes", {"date", "zone"}, "minutes",
      "average one-way commute of employed residents, by home zone", s.commute_minutes, false);
  add("/commuting/km", {"date", "zone"}, "km",
      "average one-way home-work distance of employed residents, by home zone", s.commute_km,
      false);
  add("/commuting/car_km", {"date"}, "km/month",
      "commuting car-km (residents and in-commuters, both directions)", s.car_km, false);
  add("/commuting/congestion_delay", {"date"}, "minutes",
      "average one-way congestion delay of a car commute", s.congestion_delay, false);
  return r;
}

}  // namespace regio::observer
