#include "sim/cli/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace regio::cli {

namespace {
const output::Dataset& need(const output::Results& r, const std::string& path) {
  const output::Dataset* d = r.dataset(path);
  if (!d) throw std::runtime_error("results lack dataset " + path);
  return *d;
}
size_t axis_len(const output::Results& r, const std::string& name) {
  const output::Axis* a = r.axis(name);
  return a ? a->labels.size() : 0;
}
/// Sum of a (month, zone) series for zone z over the first or the last 12 recorded months
/// (or fewer) of nm.
double year_total(const output::Dataset& d, size_t nz, size_t nm, size_t z, bool first_year) {
  double v = 0;
  const size_t from = first_year ? 0 : (nm >= 12 ? nm - 12 : 0);
  for (size_t m = from; m < std::min(nm, from + 12); ++m) v += d.values[m * nz + z];
  return v;
}
/// The two header lines of a table with a first-year and a last-year column for each of
/// `columns` (name, width): the names, then the years under them.
std::string year_pair_header(const std::vector<std::pair<const char*, int>>& columns,
                             const std::string& first, const std::string& last) {
  std::string names = fmt::format("{:<13}", "municipality"), years = fmt::format("{:<13}", "");
  for (const auto& [name, width] : columns) {
    names += fmt::format(" {:>{}} {:>{}}", name, width, name, width);
    years += fmt::format(" {:>{}} {:>{}}", first, width, last, width);
  }
  return names + "\n" + years + "\n";
}
/// Mean of a monthly series over its first or last 12 values (or fewer).
double year_mean(const std::vector<double>& v, bool last) {
  const size_t n = std::min<size_t>(12, v.size());
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += last ? v[v.size() - 1 - i] : v[i];
  return n > 0 ? sum / static_cast<double>(n) : 0.0;
}
}  // namespace

/// Jobs, unemployment, value added and commuting per municipality, first and last year.
std::string economy_table(const output::Results& r, const std::vector<std::string>& zones,
                          const std::string& first, const std::string& last) {
  const output::Dataset* jobs = r.dataset("/economy/jobs");
  if (!jobs) return {};
  const auto& va = need(r, "/economy/value_added");
  const auto& urate = need(r, "/labour/unemployment_rate");
  const auto& km = need(r, "/commuting/km");
  const auto& minutes = need(r, "/commuting/minutes");
  const size_t nz = zones.size(), nm = axis_len(r, "month"), nd = axis_len(r, "date");
  std::string out = fmt::format(
      "\nJobs (by job zone), unemployment and commuting (by home zone), {} and {}:\n", first, last);
  out += year_pair_header({{"jobs", 8}, {"unemp%", 7}, {"VA EUR m", 9}, {"km", 7}, {"min", 7}},
                          first, last);
  double j0 = 0, j1 = 0, v0 = 0, v1 = 0;
  for (size_t z = 0; z < nz; ++z) {
    const double a = jobs->values[z], b = jobs->values[(nm - 1) * nz + z];
    const double va0 = year_total(va, nz, nm, z, true) / 1e6;
    const double va1 = year_total(va, nz, nm, z, false) / 1e6;
    out += fmt::format(
        "{:<13} {:>8.0f} {:>8.0f} {:>7.1f} {:>7.1f} {:>9.0f} {:>9.0f} {:>7.1f} {:>7.1f} {:>7.1f} "
        "{:>7.1f}\n",
        zones[z], a, b, 100.0 * urate.values[z], 100.0 * urate.values[(nm - 1) * nz + z], va0, va1,
        km.values[z], km.values[(nd - 1) * nz + z], minutes.values[z],
        minutes.values[(nd - 1) * nz + z]);
    j0 += a, j1 += b, v0 += va0, v1 += va1;
  }
  out += fmt::format("{:<13} {:>8.0f} {:>8.0f} {:>7} {:>7} {:>9.0f} {:>9.0f}\n", "region", j0, j1,
                     "", "", v0, v1);
  const auto& tight = need(r, "/labour/tightness");
  const auto& in = need(r, "/labour/in_commuters");
  const auto& outc = need(r, "/labour/out_commuters");
  // Tightness is what is left after each month's matching: noisy month to month, so the
  // first and the last year's averages.
  out += fmt::format(
      "tightness (vacancies left per unemployed, yearly mean) {:.3f} -> {:.3f}; in-commuters "
      "{:.0f} -> {:.0f}; out-commuters {:.0f} -> {:.0f}\n",
      year_mean(tight.values, false), year_mean(tight.values, true), in.values.front(),
      in.values.back(), outc.values.front(), outc.values.back());
  // Open positions in the region (summed over the job zones) and the field match of the
  // hires, yearly means of the first and last year.
  if (const output::Dataset* vac = r.dataset("/economy/vacancies")) {
    double open0 = 0.0, open1 = 0.0;
    for (size_t z = 0; z < nz; ++z)
      open0 += year_total(*vac, nz, nm, z, true), open1 += year_total(*vac, nz, nm, z, false);
    const auto months = static_cast<double>(std::max<size_t>(1, std::min<size_t>(12, nm)));
    out += fmt::format("open positions (yearly mean) {:.0f} -> {:.0f}", open0 / months,
                       open1 / months);
    if (const output::Dataset* fm = r.dataset("/labour/field_match"))
      out += fmt::format(
          "; hires into posts that ask for a field, from that field: {:.1f} % -> {:.1f} %",
          100.0 * year_mean(fm->values, false), 100.0 * year_mean(fm->values, true));
    out += "\n";
  }
  return out;
}

/// Establishments, start-ups, exits and exports per municipality, first and last year; the
/// region's average wage and regional sourcing share.
std::string firms_table(const output::Results& r, const std::vector<std::string>& zones,
                        const std::string& first, const std::string& last) {
  const output::Dataset* est = r.dataset("/economy/establishments");
  if (!est) return {};
  const auto& entries = need(r, "/economy/firm_entries");
  const auto& exits = need(r, "/economy/firm_exits");
  const auto& exports = need(r, "/economy/exports");
  const auto& wage = need(r, "/economy/average_wage");
  const auto& jobs = need(r, "/economy/jobs_by_sector");
  const auto& sourcing = need(r, "/economy/regional_sourcing");
  const size_t nz = zones.size(), nm = axis_len(r, "month"), nd = axis_len(r, "date");
  const size_t ns = axis_len(r, "sector");
  auto firms_at = [&](size_t d, size_t z) {
    double v = 0;
    for (size_t k = 0; k < ns; ++k) v += est->values[(d * nz + z) * ns + k];
    return v;
  };
  std::string out = fmt::format(
      "\nFirms (by zone): establishments, start-ups and exits, exports; {} and {}:\n", first, last);
  out +=
      year_pair_header({{"firms", 8}, {"entries", 8}, {"exits", 7}, {"exp EUR m", 9}}, first, last);
  double t[8] = {};
  for (size_t z = 0; z < nz; ++z) {
    const double v[8] = {firms_at(0, z),
                         firms_at(nd - 1, z),
                         year_total(entries, nz, nm, z, true),
                         year_total(entries, nz, nm, z, false),
                         year_total(exits, nz, nm, z, true),
                         year_total(exits, nz, nm, z, false),
                         year_total(exports, nz, nm, z, true) / 1e6,
                         year_total(exports, nz, nm, z, false) / 1e6};
    out += fmt::format(
        "{:<13} {:>8.0f} {:>8.0f} {:>8.0f} {:>8.0f} {:>7.0f} {:>7.0f} {:>9.0f} {:>9.0f}\n",
        zones[z], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
    for (int k = 0; k < 8; ++k) t[k] += v[k];
  }
  out += fmt::format(
      "{:<13} {:>8.0f} {:>8.0f} {:>8.0f} {:>8.0f} {:>7.0f} {:>7.0f} {:>9.0f} {:>9.0f}\n", "region",
      t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
  // The average monthly wage over the sectors, weighted by their jobs at the start; the
  // first and the last month.
  double w0 = 0, w1 = 0, weight = 0;
  for (size_t k = 0; k < ns; ++k) {
    double j = 0;
    for (size_t z = 0; z < nz; ++z) j += jobs.values[z * ns + k];
    w0 += j * wage.values[k], w1 += j * wage.values[(nm - 1) * ns + k], weight += j;
  }
  out += fmt::format(
      "average wage (EUR a month, at the start's sector mix) {:.0f} -> {:.0f}; regional "
      "sourcing (share of firms' inputs bought in the region, yearly mean) {:.1f} % -> {:.1f} %\n",
      weight > 0 ? w0 / weight : 0.0, weight > 0 ? w1 / weight : 0.0,
      100.0 * year_mean(sourcing.values, false), 100.0 * year_mean(sourcing.values, true));
  return out;
}

std::string summary_table(const output::Results& r) {
  const auto& zones = r.axis("zone")->labels;
  const size_t nz = zones.size();
  const size_t nd = axis_len(r, "date"), nm = axis_len(r, "month"), ny = axis_len(r, "year");
  const auto& by_age = need(r, "/demography/population_by_age_status");
  const auto& hh = need(r, "/households/households");
  const auto& dw = need(r, "/housing/dwellings");
  const auto& births = need(r, "/demography/births");
  const auto& deaths = need(r, "/demography/deaths");
  const auto& in = need(r, "/demography/in_migrants");
  const auto& out = need(r, "/demography/out_migrants");
  const auto& students = need(r, "/education/students");
  const size_t ag = axis_len(r, "age_group"), st = axis_len(r, "status");
  const size_t nl = axis_len(r, "level");

  // Population, 65+ share and labour figures from a 1 January snapshot.
  struct Snap {
    double pop = 0, old = 0, employed = 0, unemployed = 0, students = 0;
  };
  auto snap = [&](size_t d, size_t z) {
    Snap s;
    for (size_t a = 0; a < ag; ++a)
      for (size_t k = 0; k < st; ++k) {
        const double v = by_age.values[((d * nz + z) * ag + a) * st + k];
        s.pop += v;
        if (a >= 4) s.old += v;
        if (k == 2) s.employed += v;
        if (k == 3) s.unemployed += v;
      }
    for (size_t l = 0; l < nl; ++l) s.students += students.values[(d * nz + z) * nl + l];
    return s;
  };
  // Flows summed over the last 12 recorded months (or fewer).
  auto last_year = [&](const output::Dataset& ds, size_t z) {
    return year_total(ds, nz, nm, z, false);
  };

  const std::string first = r.axis("date")->labels.front().substr(0, 4);
  const std::string last = ny ? r.axis("year")->labels.back() : first;
  std::string outtxt;
  outtxt += fmt::format("Population on 1 January {} and at the end of {} (scale {}):\n", first,
                        last, r.meta.scale);
  outtxt += fmt::format("{:<13} {:>9} {:>9} {:>7} {:>6} {:>6} {:>10} {:>9} {:>8} {:>8}\n",
                        "municipality", "pop " + first, "pop " + last, "change", "65+ %", "65+ %",
                        "households", "dwellings", "housing", "students");
  outtxt += fmt::format("{:<13} {:>9} {:>9} {:>7} {:>6} {:>6} {:>10} {:>9} {:>8} {:>8}\n", "", "",
                        "", "%", first, last, last, last, "pressure", last);
  double t0 = 0, t1 = 0, o0 = 0, o1 = 0, th = 0, td = 0, ts = 0;
  for (size_t z = 0; z < nz; ++z) {
    const Snap a = snap(0, z), b = snap(nd - 1, z);
    const double h = hh.values[(nm - 1) * nz + z], d = dw.values[(nm - 1) * nz + z];
    outtxt += fmt::format(
        "{:<13} {:>9.0f} {:>9.0f} {:>+7.1f} {:>6.1f} {:>6.1f} {:>10.0f} {:>9.0f} {:>8.3f} "
        "{:>8.0f}\n",
        zones[z], a.pop, b.pop, 100.0 * (b.pop / a.pop - 1.0), 100.0 * a.old / a.pop,
        100.0 * b.old / b.pop, h, d, h / d, b.students);
    t0 += a.pop, t1 += b.pop, o0 += a.old, o1 += b.old, th += h, td += d, ts += b.students;
  }
  outtxt += fmt::format(
      "{:<13} {:>9.0f} {:>9.0f} {:>+7.1f} {:>6.1f} {:>6.1f} {:>10.0f} {:>9.0f} {:>8.3f} {:>8.0f}\n",
      "region", t0, t1, 100.0 * (t1 / t0 - 1.0), 100.0 * o0 / t0, 100.0 * o1 / t1, th, td, th / td,
      ts);

  outtxt +=
      fmt::format("\nFlows in the last simulated year ({}) and labour status at its end:\n", last);
  outtxt += fmt::format("{:<13} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9}\n", "municipality", "births",
                        "deaths", "in-migr", "out-migr", "employed", "unempl %");
  for (size_t z = 0; z < nz; ++z) {
    const Snap b = snap(nd - 1, z);
    outtxt +=
        fmt::format("{:<13} {:>7.0f} {:>7.0f} {:>8.0f} {:>8.0f} {:>9.0f} {:>9.1f}\n", zones[z],
                    last_year(births, z), last_year(deaths, z), last_year(in, z), last_year(out, z),
                    b.employed, 100.0 * b.unemployed / std::max(1.0, b.employed + b.unemployed));
  }
  outtxt += economy_table(r, zones, first, last);
  outtxt += firms_table(r, zones, first, last);
  return outtxt;
}

}  // namespace regio::cli
