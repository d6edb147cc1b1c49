// Tests of sim/supply_chain: the supplier -> customer graph built over the firms of the
// default region (well-formed links, weights, determinism across repeated builds, threads
// and chunk sizes; supplier choice following size and distance), the sampler against the
// exact probabilities of drawing suppliers by size x distance decay, the monthly order
// flow (money conserved, bit-identical for any threading), rewiring after exits and
// entries, reindexing after compaction, the incrementally patched links against a fresh
// flattening after quarters of turnover (and bit-identical for any threading), replacements
// in order of customer id whatever the store's order, traversals of the Boost.Graph view,
// and a Leontief test: on a hand-made three-firm economy the order flow iterated to
// convergence gives the output of the Leontief inverse.
// Hidden tests ("[perf]") time the graph on the full-scale region, freshly built and in a
// running model.
#include <oneapi/tbb/global_control.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/strong_components.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "agents/firms.hpp"
#include "sim/model.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_loader.hpp"
#include "sim/supply_chain.hpp"
#include "sim/supply_chain_graph.hpp"

using regio::FirmStore;
using regio::k_none;
using regio::Model;
using regio::RunConfig;
using regio::Scenario;
using regio::SupplyChain;
using Link = regio::SupplyChain::Link;

namespace {

constexpr std::uint64_t k_seed = 777;
constexpr double k_scale = 0.05;
constexpr double k_min_coefficient = 0.02;  // as in sim/supply_chain.cpp
constexpr size_t k_max_suppliers = 3;       // as in sim/supply_chain.cpp

const Scenario& baseline() {
  static const Scenario s = regio::load_scenario("key-region-leiden");
  return s;
}

std::unique_ptr<Model> make_model(const Scenario& s, size_t chunk_size = 8192,
                                  double scale = k_scale) {
  RunConfig c;
  c.seed = k_seed;
  c.scale = scale;
  c.chunk_size = chunk_size;
  return std::make_unique<Model>(s, c);
}

bool same(const std::vector<Link>& a, const std::vector<Link>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].supplier != b[i].supplier || a[i].customer != b[i].customer ||
        a[i].weight != b[i].weight || a[i].input_sector != b[i].input_sector)
      return false;
  return true;
}

bool bit_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

bool candidate(const FirmStore& fs, size_t f) {
  return fs.alive[f] && !(fs.kind[f] & regio::k_institution);
}

size_t index_of(const Model& m, std::uint32_t id) {
  const std::uint32_t f = m.firm_index(id);
  REQUIRE(f != k_none);
  REQUIRE(m.firms.id[f] == id);
  return f;
}

using Group = std::pair<std::uint32_t, std::uint8_t>;  // (customer id, input sector)

/// Suppliers (id, weight) of each (customer, sector), in link order.
std::map<Group, std::vector<std::pair<std::uint32_t, double>>> groups_of(
    const std::vector<Link>& links) {
  std::map<Group, std::vector<std::pair<std::uint32_t, double>>> g;
  for (const Link& l : links) g[{l.customer, l.input_sector}].emplace_back(l.supplier, l.weight);
  return g;
}

/// Candidate suppliers (alive, not institutions) per sector.
std::vector<size_t> candidates_per_sector(const Model& m) {
  std::vector<size_t> n(m.scenario().sectors.size(), 0);
  for (size_t f = 0; f < m.firms.size(); ++f)
    if (candidate(m.firms, f)) ++n[m.firms.sector[f]];
  return n;
}

/// The structural properties every graph must have: links between alive firms, no
/// self-links, supplier of the input sector and not an institution, only input sectors
/// at or above the threshold, at most 3 suppliers per (customer, sector) with weights
/// summing to 1, and (if `complete`) a group for every input sector in which a candidate
/// exists. Completeness holds after build and as long as sectors without candidates get
/// none: a customer does not search again until one of its suppliers exits.
void check_structure(const Model& m, const SupplyChain& sc, bool complete = true) {
  const FirmStore& fs = m.firms;
  const auto& io = m.scenario().input_coefficients;
  const std::vector<Link> links = sc.links();
  REQUIRE(links.size() == sc.edges());
  long bad = 0;
  for (const Link& l : links) {
    const size_t s = index_of(m, l.supplier), c = index_of(m, l.customer);
    if (l.supplier == l.customer) ++bad;
    if (!fs.alive[s] || !fs.alive[c]) ++bad;
    if (fs.sector[s] != l.input_sector) ++bad;
    if (!candidate(fs, s)) ++bad;
    if (io[fs.sector[c]][l.input_sector] < k_min_coefficient) ++bad;
    if (!(l.weight > 0.0 && l.weight <= 1.0)) ++bad;
  }
  CHECK(bad == 0);
  const auto groups = groups_of(links);
  long weight_errors = 0, too_many = 0, duplicates = 0;
  for (const auto& [key, sup] : groups) {
    double sum = 0.0;
    std::set<std::uint32_t> distinct;
    for (const auto& [id, w] : sup) sum += w, distinct.insert(id);
    if (std::abs(sum - 1.0) > 1e-12) ++weight_errors;
    if (sup.size() > k_max_suppliers) ++too_many;
    if (distinct.size() != sup.size()) ++duplicates;
  }
  CHECK(weight_errors == 0);
  CHECK(too_many == 0);
  CHECK(duplicates == 0);
  // Every alive customer has suppliers in each linked input sector where another
  // candidate exists.
  const std::vector<size_t> cand = candidates_per_sector(m);
  long missing = 0;
  for (size_t c = 0; c < fs.size(); ++c) {
    if (!fs.alive[c]) continue;
    for (size_t k = 0; k < cand.size(); ++k) {
      if (io[fs.sector[c]][k] < k_min_coefficient) continue;
      const size_t others = cand[k] - ((fs.sector[c] == k && candidate(fs, c)) ? 1 : 0);
      if (others > 0 && !groups.count({fs.id[c], static_cast<std::uint8_t>(k)})) ++missing;
    }
  }
  if (complete) CHECK(missing == 0);
}

/// Regional input purchases spread over four orders of magnitude (so that the order in
/// which sums are taken shows up in the last bits), from a fixed generator.
void set_regional_inputs(Model& m, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 4.0);
  for (double& x : m.firms.regional_inputs) x = std::pow(10.0, u(gen)) * 1.2345;
}

long double alive_sum(const Model& m, const std::vector<double>& v) {
  long double s = 0.0L;
  for (size_t f = 0; f < m.firms.size(); ++f)
    if (m.firms.alive[f]) s += v[f];
  return s;
}

long double total(const std::vector<double>& v) {
  long double s = 0.0L;
  for (double x : v) s += x;
  return s;
}

/// The orders of regional inputs drawn with `seed`, checked to conserve money: what the
/// alive firms order is placed at regional suppliers or bought outside.
struct Flow {
  std::vector<double> orders;
  double unplaced = 0.0;
};
Flow conserved_flow(Model& m, const SupplyChain& sc, std::uint64_t seed) {
  set_regional_inputs(m, seed);
  Flow flow;
  sc.distribute_orders(m, flow.orders, flow.unplaced);
  const long double in = alive_sum(m, m.firms.regional_inputs);
  CHECK(std::abs(static_cast<double>((total(flow.orders) + flow.unplaced - in) / in)) < 1e-12);
  return flow;
}

}  // namespace

// Test names avoid ',' and ';': CTest passes each name to Catch as a test spec.
TEST_CASE(
    "build: well-formed links with weights summing to 1 per input sector and the same "
    "graph for any number of threads",
    "[supply_chain]") {
  auto m = make_model(baseline());
  REQUIRE(m->firms.size() > 500);
  SupplyChain a;
  a.build(*m);
  INFO("firms " << m->firms.size() << ", links " << a.edges());
  REQUIRE(a.edges() > 5 * m->firms.size());
  check_structure(*m, a);

  const std::vector<Link> first = a.links();
  SupplyChain b;
  b.build(*m);
  CHECK(same(first, b.links()));
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    SupplyChain c;
    c.build(*m);
    INFO("threads " << threads);
    CHECK(same(first, c.links()));
    CHECK(c.cross_links() == a.cross_links());
  }
  // A rebuild replaces the graph rather than adding to it.
  a.build(*m);
  CHECK(same(first, a.links()));

  // Cross-over links as defined: different cluster (none counts as one) or exactly one SME.
  size_t cross = 0;
  for (const Link& l : first) {
    const size_t s = index_of(*m, l.supplier), c = index_of(*m, l.customer);
    if (m->firms.cluster[s] != m->firms.cluster[c] || m->firms.is_sme(s) != m->firms.is_sme(c))
      ++cross;
  }
  CHECK(a.cross_links() == cross);
  CHECK(cross > 0);
}

TEST_CASE("build: another seed gives another graph and choice follows size and distance",
          "[supply_chain]") {
  auto m = make_model(baseline());
  SupplyChain a;
  a.build(*m);
  const FirmStore& fs = m->firms;
  {
    RunConfig c = m->config();
    c.seed = k_seed + 1;
    // Same firms, other draws: the firm store is copied into a model with another seed.
    Model other(baseline(), c);
    other.firms = fs;
    for (size_t f = 0; f < fs.size(); ++f) other.index_firm(fs.id[f], f);
    SupplyChain b;
    b.build(other);
    CHECK_FALSE(same(a.links(), b.links()));
    check_structure(other, b);
  }
  // Each chosen supplier against two references over the same groups: the share of picks
  // in the customer's own zone against a choice by size alone (no distance), and the mean
  // log size of the picks against a uniformly drawn candidate (no size). The effects are
  // large (zones 3-20 km apart, Pareto-sized firms) against sampling noise of about 0.005
  // in either statistic (some 36,000 picks), so the one-sided margins are wide.
  const size_t nz = static_cast<size_t>(m->commuting.zones());
  const size_t ns = m->scenario().sectors.size();
  std::vector<double> size_in(ns * nz, 0.0), size_all(ns, 0.0), log_size_all(ns, 0.0),
      count_all(ns, 0.0);
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!candidate(fs, f)) continue;
    const double size = std::max(1, fs.headcount(f));
    size_in[fs.sector[f] * nz + fs.zone[f]] += size;
    size_all[fs.sector[f]] += size;
    log_size_all[fs.sector[f]] += std::log(size);
    count_all[fs.sector[f]] += 1.0;
  }
  double picks = 0.0, same_zone = 0.0, same_zone_size_only = 0.0;
  double log_size = 0.0, log_size_uniform = 0.0;
  for (const Link& l : a.links()) {
    const size_t s = index_of(*m, l.supplier), c = index_of(*m, l.customer);
    const size_t k = l.input_sector, zc = fs.zone[c];
    picks += 1.0;
    same_zone += fs.zone[s] == zc ? 1.0 : 0.0;
    same_zone_size_only += size_in[k * nz + zc] / size_all[k];
    log_size += std::log(std::max(1, fs.headcount(s)));
    log_size_uniform += log_size_all[k] / count_all[k];
  }
  INFO("same-zone share " << same_zone / picks << " vs by size only "
                          << same_zone_size_only / picks);
  INFO("mean log size " << log_size / picks << " vs uniform " << log_size_uniform / picks);
  CHECK(same_zone / picks > same_zone_size_only / picks + 0.05);
  CHECK(log_size / picks > log_size_uniform / picks + 0.3);
}

TEST_CASE("distribute_orders conserves money and is bit-identical across threads and chunk sizes",
          "[supply_chain]") {
  auto m = make_model(baseline(), 8192);
  set_regional_inputs(*m, 99);
  std::vector<double> base_orders;
  double base_unplaced = 0.0;
  SupplyChain& sc = m->supply_chain;
  sc.build(*m);
  sc.distribute_orders(*m, base_orders, base_unplaced);
  REQUIRE(base_orders.size() == m->firms.size());
  const long double in = alive_sum(*m, m->firms.regional_inputs);
  const long double out = total(base_orders) + base_unplaced;
  INFO("inputs " << static_cast<double>(in) << ", orders "
                 << static_cast<double>(total(base_orders)) << ", unplaced " << base_unplaced);
  CHECK(std::abs(static_cast<double>((out - in) / in)) < 1e-12);
  CHECK(base_unplaced >= 0.0);  // every linked input sector has firms in the default region
  CHECK(static_cast<double>(total(base_orders)) > 0.5 * static_cast<double>(in));
  for (size_t f = 0; f < m->firms.size(); ++f)
    if (!candidate(m->firms, f)) CHECK(base_orders[f] == 0.0);
  {
    // The links' shares are the order factors: the orders rebuilt from links() match.
    std::vector<double> rebuilt(m->firms.size(), 0.0);
    for (const Link& l : sc.links())
      rebuilt[m->firm_index(l.supplier)] +=
          m->firms.regional_inputs[m->firm_index(l.customer)] * l.share;
    size_t off = 0;
    for (size_t f = 0; f < rebuilt.size(); ++f)
      off += std::abs(rebuilt[f] - base_orders[f]) > 1e-9 * std::max(1.0, base_orders[f]);
    CHECK(off == 0);
  }

  // `unplaced` is added to, and order_demand is resized and overwritten.
  {
    std::vector<double> orders(3, 42.0);
    double unplaced = 1000.0;
    sc.distribute_orders(*m, orders, unplaced);
    CHECK(bit_equal(orders, base_orders));
    CHECK(unplaced == 1000.0 + base_unplaced);
  }
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    std::vector<double> orders;
    double unplaced = 0.0;
    sc.distribute_orders(*m, orders, unplaced);
    INFO("threads " << threads);
    CHECK(bit_equal(orders, base_orders));
    CHECK(unplaced == base_unplaced);
  }
  // The same firms in models with other chunk sizes (the store is copied, so only the
  // chunking differs): the same graph and bit-identical orders.
  for (size_t chunk : {1024, 64}) {
    auto other = make_model(baseline(), chunk);
    other->firms = m->firms;
    for (size_t f = 0; f < m->firms.size(); ++f) other->index_firm(m->firms.id[f], f);
    SupplyChain b;
    b.build(*other);
    CHECK(same(b.links(), sc.links()));
    for (int threads : {1, 2}) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                static_cast<size_t>(threads));
      std::vector<double> orders;
      double unplaced = 0.0;
      b.distribute_orders(*other, orders, unplaced);
      INFO("chunk " << chunk << ", threads " << threads);
      CHECK(bit_equal(orders, base_orders));
      CHECK(unplaced == base_unplaced);
    }
  }

  // A supplier that exited but has not been passed to update() yet: orders addressed to it
  // are bought outside the region, and money still balances.
  {
    size_t f = 0;
    while (base_orders[f] == 0.0) ++f;
    m->firms.alive[f] = 0;
    std::vector<double> orders;
    double unplaced = 0.0;
    sc.distribute_orders(*m, orders, unplaced);
    CHECK(orders[f] == 0.0);
    CHECK(unplaced > base_unplaced);
    const long double alive_in = alive_sum(*m, m->firms.regional_inputs);
    CHECK(std::abs(static_cast<double>((total(orders) + unplaced - alive_in) / alive_in)) < 1e-12);
    m->firms.alive[f] = 1;
  }

  // One customer alone: each supplier receives input coefficient x weight, the rest of
  // its purchases (sectors without a supplier or below the threshold) is unplaced.
  const auto links = sc.links();
  const std::uint32_t cid = links[links.size() / 2].customer;
  const size_t c = index_of(*m, cid);
  std::fill(m->firms.regional_inputs.begin(), m->firms.regional_inputs.end(), 0.0);
  m->firms.regional_inputs[c] = 1000.0;
  std::vector<double> orders;
  double unplaced = 0.0;
  sc.distribute_orders(*m, orders, unplaced);
  const auto& row = m->scenario().input_coefficients[m->firms.sector[c]];
  std::vector<double> expected(m->firms.size(), 0.0);
  std::vector<bool> supplied(row.size(), false);
  for (const Link& l : links)
    if (l.customer == cid) {
      expected[index_of(*m, l.supplier)] += 1000.0 * row[l.input_sector] * l.weight;
      supplied[l.input_sector] = true;
    }
  double expected_unplaced = 0.0;
  for (size_t k = 0; k < row.size(); ++k)
    if (!supplied[k]) expected_unplaced += 1000.0 * row[k];
  for (size_t f = 0; f < orders.size(); ++f) CHECK(orders[f] == Approx(expected[f]).margin(1e-9));
  CHECK(unplaced == Approx(expected_unplaced).margin(1e-9));
}

TEST_CASE(
    "update: exits break links and customers rewire and entrants attach and reindex "
    "follows compaction",
    "[supply_chain]") {
  auto m = make_model(baseline());
  FirmStore& fs = m->firms;
  SupplyChain sc;
  sc.build(*m);
  const std::vector<Link> before = sc.links();
  const auto groups_before = groups_of(before);
  const auto& io = m->scenario().input_coefficients;
  const size_t ns = m->scenario().sectors.size();

  // The input sector with the fewest candidates (at least 2) that customers link to: all
  // its firms exit and one entrant of that sector appears, so every customer that loses
  // such a supplier can only rewire to the entrant.
  std::vector<size_t> cand = candidates_per_sector(*m);
  std::vector<size_t> links_into(ns, 0);
  for (const Link& l : before) ++links_into[l.input_sector];
  size_t target = ns;
  for (size_t k = 0; k < ns; ++k)
    if (cand[k] >= 2 && links_into[k] > 0 && (target == ns || cand[k] < cand[target])) target = k;
  REQUIRE(target < ns);

  std::vector<std::uint32_t> exited;
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!candidate(fs, f)) continue;
    if (fs.sector[f] == target || f % 7 == 3) exited.push_back(fs.id[f]);
  }
  for (std::uint32_t id : exited) fs.alive[index_of(*m, id)] = 0;
  const std::set<std::uint32_t> gone(exited.begin(), exited.end());

  // Entrants: one of the target sector and one of every other sector, in zone 0.
  std::vector<std::uint32_t> entrants;
  for (size_t k = 0; k < ns; ++k) {
    const std::uint32_t id = m->next_firm_id++;
    const size_t f = fs.append(id);
    m->index_firm(id, f);
    fs.sector[f] = static_cast<std::uint8_t>(k);
    fs.zone[f] = 0;
    fs.employees[f] = {0, 2, 1, 0};
    entrants.push_back(id);
  }
  const std::uint32_t target_entrant = entrants[target];

  // Before update, entrants appended to the store have no links yet: their regional
  // purchases are bought outside the region, and money is conserved. An entrant that
  // closes before update buys nothing (as the exited firms): its last purchases must not
  // count as bought outside, or the accounts' firm-to-firm flows would not balance.
  {
    const size_t last = fs.size() - 1;
    fs.regional_inputs[last] = 1000.0;
    for (const bool open : {true, false}) {
      fs.alive[last] = open ? 1 : 0;
      std::vector<double> orders;
      double unplaced = 0.0;
      REQUIRE_NOTHROW(sc.distribute_orders(*m, orders, unplaced));
      double placed = 0.0, wanted = 0.0;
      for (size_t f = 0; f < fs.size(); ++f) {
        placed += orders[f];
        if (fs.alive[f]) wanted += fs.regional_inputs[f];
      }
      INFO("entrant open: " << open);
      CHECK(placed + unplaced == Approx(wanted).epsilon(1e-12));
    }
    fs.alive[last] = 1;
    fs.regional_inputs[last] = 0.0;
  }
  sc.update(*m, exited, entrants, m->now());
  check_structure(*m, sc);
  const std::vector<Link> after = sc.links();
  const auto groups_after = groups_of(after);

  long touches_exited = 0;
  for (const Link& l : after)
    if (gone.count(l.supplier) || gone.count(l.customer)) ++touches_exited;
  CHECK(touches_exited == 0);

  cand = candidates_per_sector(*m);
  long not_rewired = 0, wrong_size = 0, not_to_entrant = 0, changed_untouched = 0;
  long rewired = 0;
  for (const auto& [key, sup] : groups_before) {
    const auto [cid, k] = key;
    if (gone.count(cid)) continue;
    size_t lost = 0;
    for (const auto& [sid, w] : sup) lost += gone.count(sid);
    const auto it = groups_after.find(key);
    if (lost == 0) {
      // Untouched groups keep their suppliers and weights exactly.
      if (it == groups_after.end() || it->second != sup) ++changed_untouched;
      continue;
    }
    ++rewired;
    const size_t c = index_of(*m, cid);
    const size_t others = cand[k] - ((fs.sector[c] == k && candidate(fs, c)) ? 1 : 0);
    if (others == 0) continue;
    if (it == groups_after.end()) {
      ++not_rewired;
      continue;
    }
    // Each lost supplier is replaced when enough candidates remain.
    if (it->second.size() != std::min(sup.size(), others)) ++wrong_size;
    if (k == target && (it->second.size() != 1 || it->second[0].first != target_entrant))
      ++not_to_entrant;
  }
  INFO("groups rewired " << rewired);
  CHECK(rewired > 100);
  CHECK(not_rewired == 0);
  CHECK(wrong_size == 0);
  CHECK(not_to_entrant == 0);
  CHECK(changed_untouched == 0);

  // Entrants buy from suppliers of every linked input sector.
  for (std::uint32_t id : entrants) {
    const size_t c = index_of(*m, id);
    for (size_t k = 0; k < ns; ++k) {
      if (io[fs.sector[c]][k] < k_min_coefficient) continue;
      const size_t others = cand[k] - ((fs.sector[c] == k) ? 1 : 0);
      if (others > 0) CHECK(groups_after.count({id, static_cast<std::uint8_t>(k)}) == 1);
    }
  }

  // Orders after the update: money still conserved.
  const auto [orders, unplaced] = conserved_flow(*m, sc, 5);
  for (std::uint32_t id : exited) CHECK(orders[index_of(*m, id)] == 0.0);
  CHECK(orders[index_of(*m, target_entrant)] > 0.0);

  // update() refreshes the flow only where links changed; a full rebuild (reindex without
  // compaction) gives bit-identical orders.
  {
    const size_t cross = sc.cross_links();
    sc.reindex(*m);
    std::vector<double> full;
    double unplaced_full = 0.0;
    sc.distribute_orders(*m, full, unplaced_full);
    CHECK(bit_equal(full, orders));
    CHECK(unplaced_full == unplaced);
    CHECK(sc.cross_links() == cross);
    CHECK(same(sc.links(), after));
  }

  // Compaction: indices change, ids do not. Before reindex the flow refuses to run; after
  // it, every firm receives bit-identical orders (and the same unplaced amount).
  std::map<std::uint32_t, double> by_id, ri_by_id;
  for (size_t f = 0; f < fs.size(); ++f)
    if (fs.alive[f]) by_id[fs.id[f]] = orders[f], ri_by_id[fs.id[f]] = fs.regional_inputs[f];
  const size_t links_count = sc.edges();
  fs.compact();
  m->rebuild_indices();
  REQUIRE(fs.size() == by_id.size());
  {
    std::vector<double> o;
    double u = 0.0;
    CHECK_THROWS_AS(sc.distribute_orders(*m, o, u), regio::InvariantError);
  }
  sc.reindex(*m);
  CHECK(sc.edges() == links_count);
  CHECK(same(sc.links(), after));
  std::vector<double> compacted;
  double unplaced_compacted = 0.0;
  sc.distribute_orders(*m, compacted, unplaced_compacted);
  long differ = 0;
  for (size_t f = 0; f < fs.size(); ++f) {
    if (fs.regional_inputs[f] != ri_by_id[fs.id[f]]) ++differ;
    if (compacted[f] != by_id[fs.id[f]]) ++differ;
  }
  CHECK(differ == 0);
  CHECK(unplaced_compacted == unplaced);

  // Later months after compaction (indices are the new ones): a large supplier and some
  // customers exit, firms enter; the flow kept up to date by update() equals a full
  // rebuild after every month.
  for (int month = 1; month <= 3; ++month) {
    std::map<std::uint32_t, size_t> customers_of;
    for (const Link& l : sc.links()) ++customers_of[l.supplier];
    std::uint32_t big = 0;
    for (const auto& [id, n] : customers_of)
      if (!customers_of.count(big) || n > customers_of[big]) big = id;
    std::vector<std::uint32_t> late{big};
    for (size_t f = 0; f < fs.size(); ++f)
      if (candidate(fs, f) && fs.id[f] != big && f % 41 == static_cast<size_t>(month))
        late.push_back(fs.id[f]);
    std::sort(late.begin(), late.end());
    for (std::uint32_t id : late) fs.alive[index_of(*m, id)] = 0;
    std::vector<std::uint32_t> fresh;
    for (size_t k = 0; k < ns; k += 2) {
      const std::uint32_t id = m->next_firm_id++;
      const size_t f = fs.append(id);
      m->index_firm(id, f);
      fs.sector[f] = static_cast<std::uint8_t>(k);
      fs.zone[f] = static_cast<std::uint16_t>(month);
      fs.employees[f] = {0, 0, 3, 0};
      fresh.push_back(id);
    }
    sc.update(*m, late, fresh, m->now() + month);
    const std::set<std::uint32_t> out(late.begin(), late.end());
    long touching = 0;
    for (const Link& l : sc.links()) touching += out.count(l.supplier) + out.count(l.customer);
    CHECK(touching == 0);
    check_structure(*m, sc, false);  // the target sector has new candidates again
    set_regional_inputs(*m, 100 + static_cast<std::uint64_t>(month));
    std::vector<double> kept, full;
    double unplaced_kept = 0.0, unplaced_full = 0.0;
    sc.distribute_orders(*m, kept, unplaced_kept);
    const size_t cross = sc.cross_links();
    sc.reindex(*m);
    sc.distribute_orders(*m, full, unplaced_full);
    INFO("month " << month);
    CHECK(bit_equal(kept, full));
    CHECK(unplaced_kept == unplaced_full);
    CHECK(sc.cross_links() == cross);
  }
}

TEST_CASE("update: customers left without any supplier of a sector buy it outside the region",
          "[supply_chain]") {
  // Every candidate of one input sector exits and none enters: the customers' groups of
  // that sector empty, and their unplaced shares (kept up to date only where a sector
  // lost its last supplier) must equal shares computed from scratch (check()).
  auto m = make_model(baseline());
  FirmStore& fs = m->firms;
  SupplyChain sc;
  sc.build(*m);
  const size_t ns = m->scenario().sectors.size();
  const std::vector<size_t> cand = candidates_per_sector(*m);
  std::vector<size_t> links_into(ns, 0);
  for (const Link& l : sc.links()) ++links_into[l.input_sector];
  size_t target = ns;
  for (size_t k = 0; k < ns; ++k)
    if (cand[k] >= 1 && links_into[k] > 0 && (target == ns || cand[k] < cand[target])) target = k;
  REQUIRE(target < ns);
  std::vector<std::uint32_t> exited;
  for (size_t f = 0; f < fs.size(); ++f)
    if (candidate(fs, f) && fs.sector[f] == target) exited.push_back(fs.id[f]);
  for (std::uint32_t id : exited) fs.alive[index_of(*m, id)] = 0;
  sc.update(*m, exited, {}, m->now());
  REQUIRE_NOTHROW(sc.check());
  size_t left = 0;
  for (const Link& l : sc.links()) left += l.input_sector == target;
  CHECK(left == 0);
  // What the customers bought from the sector is bought outside: money is conserved.
  conserved_flow(*m, sc, 77);
}

TEST_CASE("update: rewiring is deterministic and keyed by customer and sector and month",
          "[supply_chain]") {
  auto m = make_model(baseline());
  FirmStore& fs = m->firms;
  std::vector<std::uint32_t> exited;
  for (size_t f = 0; f < fs.size(); ++f)
    if (candidate(fs, f) && f % 5 == 1) exited.push_back(fs.id[f]);
  for (std::uint32_t id : exited) fs.alive[index_of(*m, id)] = 0;
  std::vector<std::vector<Link>> results;
  for (int threads : {1, 2, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    SupplyChain sc;
    for (auto& id : exited) fs.alive[index_of(*m, id)] = 1;
    sc.build(*m);
    for (auto& id : exited) fs.alive[index_of(*m, id)] = 0;
    sc.update(*m, exited, {}, m->now() + (results.size() == 2 ? 7 : 0));
    results.push_back(sc.links());
  }
  CHECK(same(results[0], results[1]));
  CHECK_FALSE(same(results[0], results[2]));  // another month, other replacements
}

namespace {

/// Input coefficients rescaled so that each customer sector's row sums to 1, as the chain
/// does (the same operations, so the same bits).
std::vector<std::vector<double>> rescaled_coefficients(const Scenario& s) {
  std::vector<std::vector<double>> coef = s.input_coefficients;
  for (auto& row : coef) {
    double sum = 0.0;
    for (double x : row) sum += x;
    for (double& x : row) x = sum > 0.0 ? x / sum : 0.0;
  }
  return coef;
}

/// The orders as documented, from links() alone: each supplier sums, in the order its
/// links are listed, (regional inputs of the customer if alive, else 0) x (the customer's
/// input coefficient of the sector x weight); suppliers that are not alive receive nothing.
/// A flattening from scratch: bit-identical to distribute_orders.
std::vector<double> orders_from_links(const Model& m, const std::vector<Link>& links) {
  const FirmStore& fs = m.firms;
  const auto coef = rescaled_coefficients(m.scenario());
  std::vector<double> orders(fs.size(), 0.0);
  for (const Link& l : links) {
    const size_t s = index_of(m, l.supplier), c = index_of(m, l.customer);
    const double buy = fs.alive[c] ? fs.regional_inputs[c] : 0.0;
    orders[s] += buy * (coef[fs.sector[c]][l.input_sector] * l.weight);
  }
  for (size_t f = 0; f < fs.size(); ++f)
    if (!fs.alive[f]) orders[f] = 0.0;
  return orders;
}

/// Compactions in turnover(): those after which the chain numbered its nodes afresh, and
/// the others.
struct Compactions {
  int renumbered = 0, kept = 0;
};
Compactions g_compactions;

/// A few quarters of firm turnover, the same for every model built from the same scenario,
/// seed and generator: exits of some 4 % of the firms a quarter (among them, every other
/// quarter, the firm with the most customers), entrants of random sector, zone and size,
/// and at every fourth quarter a compaction of the store followed by reindex. After each
/// step the chain is checked against a fresh flattening (check()), its orders against
/// orders_from_links, and `after_step(quarter)` is called.
template <class F>
void turnover(Model& m, SupplyChain& sc, int quarters, std::uint64_t seed, F after_step) {
  FirmStore& fs = m.firms;
  std::mt19937_64 gen(seed);
  const int ns = static_cast<int>(m.scenario().sectors.size());
  for (int q = 0; q < quarters; ++q) {
    std::vector<std::uint32_t> exited, entrants;
    std::uint32_t biggest = 0;
    if (q % 2 == 1) {
      std::map<std::uint32_t, size_t> customers;
      for (const Link& l : sc.links()) ++customers[l.supplier];
      size_t most = 0;
      for (const auto& [id, count] : customers)
        if (count > most) most = count, biggest = id;
    }
    for (size_t f = 0; f < fs.size(); ++f)
      if (fs.alive[f] &&
          (std::uniform_real_distribution<double>(0.0, 1.0)(gen) < 0.04 || fs.id[f] == biggest))
        exited.push_back(fs.id[f]);
    for (std::uint32_t id : exited) fs.alive[index_of(m, id)] = 0;
    const int count = 20 + static_cast<int>(gen() % 60);
    for (int i = 0; i < count; ++i) {
      const std::uint32_t id = m.next_firm_id++;
      const size_t f = fs.append(id);
      m.index_firm(id, f);
      fs.sector[f] = static_cast<std::uint8_t>(gen() % static_cast<std::uint64_t>(ns));
      fs.zone[f] =
          static_cast<std::uint16_t>(gen() % static_cast<std::uint64_t>(m.internal_zones()));
      fs.employees[f] = {static_cast<int>(gen() % 5), static_cast<int>(gen() % 40), 0, 0};
      if (i % 7 == 6) continue;  // left to the next update, as the model may do
      entrants.push_back(id);
    }
    sc.update(m, exited, entrants, m.now() + 3 * q);
    sc.check();
    const auto [orders, unplaced] = conserved_flow(m, sc, 1000 + static_cast<std::uint64_t>(q));
    CHECK(bit_equal(orders, orders_from_links(m, sc.links())));
    if (q % 4 == 3) {
      std::map<std::uint32_t, double> by_id;
      for (size_t f = 0; f < fs.size(); ++f)
        if (fs.alive[f]) by_id[fs.id[f]] = orders[f];
      const std::vector<Link> before = sc.links();
      // (Every firm in the store has a node after update: a renumbering drops nodes.)
      const bool renumbers = sc.renumbers_at_compaction(m);
      const size_t nodes_before = sc.nodes();
      fs.compact();
      m.rebuild_indices();
      sc.reindex(m);
      sc.check();
      CHECK(renumbers == (sc.nodes() < nodes_before));
      ++(renumbers ? g_compactions.renumbered : g_compactions.kept);
      CHECK(same(sc.links(), before));
      std::vector<double> again;
      double unplaced_again = 0.0;
      sc.distribute_orders(m, again, unplaced_again);
      long differ = 0;
      for (size_t f = 0; f < fs.size(); ++f) differ += again[f] != by_id[fs.id[f]];
      CHECK(differ == 0);
      CHECK(unplaced_again == unplaced);
    }
    after_step(q);
  }
}

}  // namespace

TEST_CASE(
    "update: after quarters of exits and entrants with compactions the patched links equal a "
    "fresh flattening",
    "[supply_chain]") {
  auto m = make_model(baseline());
  SupplyChain sc;
  sc.build(*m);
  sc.check();
  const size_t firms_at_start = m->firms.size();
  size_t links_min = sc.edges(), links_max = sc.edges();
  g_compactions = {};
  turnover(*m, sc, 12, 4242, [&](int) {
    check_structure(*m, sc, false);
    links_min = std::min(links_min, sc.edges());
    links_max = std::max(links_max, sc.edges());
  });
  // renumbers_at_compaction was right (checked in turnover) both ways.
  CHECK(g_compactions.renumbered > 0);
  CHECK(g_compactions.kept > 0);
  INFO("firms at start " << firms_at_start << ", now " << m->firms.size() << "; links " << links_min
                         << " to " << links_max);
  CHECK(links_min > 5 * firms_at_start / 2);

  // A rebuild of the same firms draws the same links as a build does (the patched chain
  // has other links: the history differs), and check() holds for it too.
  SupplyChain fresh;
  fresh.build(*m);
  fresh.check();
  check_structure(*m, fresh);
}

TEST_CASE("the start's chain built before the initial matching is the one built from its staff",
          "[supply_chain]") {
  // The model builds the chain beside the population, for the firms' positions, which the
  // initial matching fills; where it leaves some open (a region without external zones
  // has no outside workers to fill them), the chain is built again from the staff. Either
  // way it is the chain built from the staff after the matching.
  auto positions_left_open = [](const Model& m) {
    std::int64_t open = 0;
    for (size_t f = 0; f < m.firms.size(); ++f) open += m.firms.open_positions(f);
    return open;
  };
  Scenario closed = baseline();
  closed.external_zones.clear();
  for (const Scenario* s : {&baseline(), static_cast<const Scenario*>(&closed)}) {
    const bool has_external = !s->external_zones.empty();
    INFO("external zones " << s->external_zones.size());
    auto m = make_model(*s);
    SupplyChain fresh;
    fresh.build(*m);
    CHECK(same(fresh.links(), m->supply_chain.links()));
    CHECK(fresh.cross_links() == m->supply_chain.cross_links());
    // (With external zones every position was filled: the open ones now are those opened
    // after the matching, for the vacancy rate.)
    if (!has_external) CHECK(positions_left_open(*m) > 0);
  }
}

TEST_CASE("update: the patched chain is bit-identical for any number of threads and chunk size",
          "[supply_chain]") {
  std::vector<Link> first_links;
  std::vector<double> first_orders;
  for (const auto& [threads, chunk] :
       {std::pair<int, size_t>{1, 8192}, {2, 8192}, {8, 64}, {2, 1000}}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    auto m = make_model(baseline(), chunk);
    SupplyChain sc;
    sc.build(*m);
    std::vector<std::vector<double>> orders_by_quarter;
    turnover(*m, sc, 8, 77, [&](int) {
      std::vector<double> orders;
      double unplaced = 0.0;
      sc.distribute_orders(*m, orders, unplaced);
      orders.push_back(unplaced);
      orders_by_quarter.push_back(orders);
    });
    std::vector<double> all;
    for (const auto& o : orders_by_quarter) all.insert(all.end(), o.begin(), o.end());
    INFO("threads " << threads << ", chunk size " << chunk);
    if (first_links.empty()) {
      first_links = sc.links();
      first_orders = all;
      REQUIRE(!first_links.empty());
    } else {
      CHECK(same(sc.links(), first_links));
      CHECK(bit_equal(all, first_orders));
    }
  }
}

TEST_CASE("update: replacements join the rows in order of customer id whatever the firm order",
          "[supply_chain]") {
  // Two models alike but for the order in which the store holds a batch of entrants
  // (customers only): in one their ids increase with their index, in the other they
  // decrease. After the
  // entrants link and later lose suppliers to exits, every supplier must have the same
  // customers in the same order (by id) and receive bit-identical orders in both.
  auto rows_by_id = [](const SupplyChain& sc) {
    std::map<std::uint32_t, std::vector<std::pair<std::uint32_t, double>>> rows;
    for (const Link& l : sc.links()) rows[l.supplier].emplace_back(l.customer, l.weight);
    return rows;
  };
  std::vector<std::map<std::uint32_t, std::vector<std::pair<std::uint32_t, double>>>> rows;
  std::vector<std::map<std::uint32_t, double>> orders;
  std::uint32_t entrants_from = 0;
  for (bool reversed : {false, true}) {
    auto m = make_model(baseline());
    FirmStore& fs = m->firms;
    SupplyChain sc;
    sc.build(*m);
    // 80 entrants of two sectors in one zone, so that many share suppliers.
    constexpr std::uint32_t k_entrants = 80;
    const std::uint32_t first_id = m->next_firm_id;
    entrants_from = first_id;
    m->next_firm_id += k_entrants;
    std::vector<std::uint32_t> entrants;
    for (std::uint32_t i = 0; i < k_entrants; ++i) {
      const std::uint32_t id = reversed ? first_id + k_entrants - 1 - i : first_id + i;
      const size_t f = fs.append(id);
      m->index_firm(id, f);
      fs.sector[f] = static_cast<std::uint8_t>(id % 2);
      fs.zone[f] = 0;
      // Institutions: never suppliers, so that the sampling tables (in store order) are the
      // same in both models.
      fs.kind[f] = regio::k_institution;
      entrants.push_back(first_id + i);  // passed in id order in both models
    }
    sc.update(*m, {}, entrants, 1);
    // Exits of a third of the candidate suppliers: the entrants lose suppliers.
    std::vector<std::uint32_t> exited;
    for (size_t f = 0; f < fs.size(); ++f)
      if (candidate(fs, f) && fs.id[f] < first_id && fs.id[f] % 3 == 0) exited.push_back(fs.id[f]);
    for (std::uint32_t id : exited) fs.alive[index_of(*m, id)] = 0;
    sc.update(*m, exited, {}, 2);
    sc.check();
    for (size_t f = 0; f < fs.size(); ++f)  // by id, spread over four orders of magnitude
      fs.regional_inputs[f] = std::pow(10.0, std::fmod(fs.id[f] * 0.6180339887, 1.0) * 4.0);
    std::vector<double> o;
    double unplaced = 0.0;
    sc.distribute_orders(*m, o, unplaced);
    std::map<std::uint32_t, double> by_id;  // (the unplaced total is summed in store order)
    for (size_t f = 0; f < fs.size(); ++f) by_id[fs.id[f]] = o[f];
    rows.push_back(rows_by_id(sc));
    orders.push_back(by_id);
  }
  // Many suppliers have several of the entrants as customers (so that the order in which
  // their links join a row shows).
  size_t shared = 0;
  for (const auto& [supplier, row] : rows[0])
    shared += std::count_if(row.begin(), row.end(),
                            [&](const auto& l) { return l.first >= entrants_from; }) >= 2;
  INFO("suppliers with two or more of the entrants as customers: " << shared);
  CHECK(shared >= 10);
  CHECK(rows[0] == rows[1]);
  CHECK(orders[0] == orders[1]);
}

TEST_CASE("update and reindex refuse a firm that left the store with links", "[supply_chain]") {
  auto m = make_model(baseline());
  FirmStore& fs = m->firms;
  SupplyChain sc;
  sc.build(*m);
  // A supplier that exits but is not passed to update: compaction drops it with its links.
  const std::uint32_t id = sc.links().front().supplier;
  fs.alive[index_of(*m, id)] = 0;
  fs.compact();
  m->rebuild_indices();
  CHECK_THROWS_AS(sc.reindex(*m), regio::InvariantError);
  CHECK_THROWS_AS(sc.update(*m, {}, {}, m->now()), regio::InvariantError);
  // Passed as exited, after the compaction: update finds it by id and drops its links.
  SupplyChain again;
  auto m2 = make_model(baseline());
  again.build(*m2);
  m2->firms.alive[index_of(*m2, id)] = 0;
  m2->firms.compact();
  m2->rebuild_indices();
  REQUIRE_NOTHROW(again.update(*m2, {id}, {}, m2->now()));
  again.check();
  check_structure(*m2, again);
  for (const Link& l : again.links()) CHECK(l.supplier != id);
}

TEST_CASE("the Boost.Graph view: a traversal of the supply chain", "[supply_chain][graph]") {
  auto m = make_model(baseline());
  SupplyChain sc;
  sc.build(*m);
  const std::shared_ptr<const regio::SupplyChainGraph> view = sc.graph();
  const auto& g = view->g;
  REQUIRE(boost::num_vertices(g) == m->firms.size());
  REQUIRE(boost::num_edges(g) == sc.edges());
  CHECK(sc.graph() == view);  // built once per change
  for (size_t v = 0; v < boost::num_vertices(g); ++v) REQUIRE(g[v].id == m->firms.id[v]);

  // Downstream reach of the firm with the most customers: breadth-first search over the
  // view against a search over links().
  std::map<std::uint32_t, std::vector<std::uint32_t>> customers;
  for (const Link& l : sc.links()) customers[l.supplier].push_back(l.customer);
  std::uint32_t hub = 0;
  for (const auto& [id, c] : customers)
    if (!customers.count(hub) || c.size() > customers[hub].size()) hub = id;
  std::vector<boost::default_color_type> color(boost::num_vertices(g));
  std::vector<std::uint32_t> hops(boost::num_vertices(g), 0);
  const auto color_map =
      boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
  const auto hop_map =
      boost::make_iterator_property_map(hops.begin(), boost::get(boost::vertex_index, g));
  boost::breadth_first_search(g, boost::vertex(index_of(*m, hub), g),
                              boost::visitor(boost::make_bfs_visitor(boost::record_distances(
                                                 hop_map, boost::on_tree_edge())))
                                  .color_map(color_map));
  std::set<std::uint32_t> reached{hub};
  std::vector<std::uint32_t> queue{hub};
  for (size_t i = 0; i < queue.size(); ++i)
    for (std::uint32_t c : customers[queue[i]])
      if (reached.insert(c).second) queue.push_back(c);
  size_t black = 0, max_hops = 0;
  for (size_t v = 0; v < color.size(); ++v) {
    const bool seen = color[v] == boost::black_color;
    black += seen;
    CHECK(seen == (reached.count(m->firms.id[v]) == 1));
    if (seen) max_hops = std::max<size_t>(max_hops, hops[v]);
  }
  INFO("hub " << hub << " reaches " << black << " firms in up to " << max_hops << " steps");
  CHECK(black == reached.size());
  CHECK(black > m->firms.size() / 2);  // the regional economy is one web of trade

  // Strongly connected components: firms that (indirectly) supply each other.
  std::vector<std::uint32_t> component(boost::num_vertices(g));
  const size_t components = boost::strong_components(
      g, boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, g)));
  std::map<std::uint32_t, size_t> size_of;
  for (std::uint32_t c : component) ++size_of[c];
  size_t largest = 0;
  for (const auto& [c, n] : size_of) largest = std::max(largest, n);
  INFO(components << " strongly connected components, the largest of " << largest << " firms");
  CHECK(largest > 100);
  CHECK(components < boost::num_vertices(g));
}

namespace {

/// Pearson's statistic of observed against expected counts; cells expected below 5 are
/// pooled (smallest first) so that the chi-square approximation holds. Returns the
/// statistic and the degrees of freedom.
std::pair<double, int> chi_square(const std::vector<double>& observed,
                                  const std::vector<double>& expected) {
  std::vector<size_t> order(observed.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return expected[a] < expected[b]; });
  std::vector<std::pair<double, double>> cells;  // (observed, expected)
  double po = 0.0, pe = 0.0;
  for (size_t i : order) {
    po += observed[i], pe += expected[i];
    if (pe >= 5.0) cells.emplace_back(po, pe), po = pe = 0.0;
  }
  if (pe > 0.0 || po > 0.0) cells.back().first += po, cells.back().second += pe;
  double x2 = 0.0;
  for (const auto& [o, e] : cells) x2 += (o - e) * (o - e) / e;
  return {x2, static_cast<int>(cells.size()) - 1};
}

/// Upper 0.1 % points of the chi-square distribution, 1-3 degrees of freedom.
double chi_square_critical(int dof) {
  static const double q[] = {0.0, 10.83, 13.82, 16.27};
  REQUIRE(dof >= 1);
  REQUIRE(dof <= 3);
  return q[dof];
}

/// Probability that a draw of 3 out of 4 firms with weights w, one after another without
/// replacement (each with probability proportional to its weight among those left),
/// leaves out firm `left`.
double left_out(const std::array<double, 4>& w, size_t left) {
  const double total = w[0] + w[1] + w[2] + w[3];
  double p = 0.0;
  for (size_t a = 0; a < 4; ++a)
    for (size_t b = 0; b < 4; ++b) {
      if (a == left || b == left || b == a) continue;
      const size_t c = 6 - a - b - left;  // the remaining one
      p += w[a] / total * w[b] / (total - w[a]) * w[c] / (total - w[a] - w[b]);
    }
  return p;
}

}  // namespace

TEST_CASE("sampler: suppliers are drawn with probability proportional to size x distance decay",
          "[supply_chain][sampler]") {
  // Hand-made firms: 4 producers with moderate sizes in four zones (the rejection sampler
  // draws them), 4 business-service firms in one zone of which one holds 97 % of the
  // weight (after it is drawn, nearly every draw repeats it, so the remaining picks come
  // from the explicit fallback list), and 4000 retailers in zone 2 as customers; each
  // retailer picks 3 of the 4 firms of each sector, i.e. leaves exactly one out. The
  // frequencies of the left-out firm are compared with the exact probabilities of drawing
  // 3 of 4 one after another with weights size x exp(-km / 10 km).
  auto m = make_model(baseline());
  const int production = m->scenario().sector_index("production");
  const int business = m->scenario().sector_index("business");
  const int trade = m->scenario().sector_index("trade");
  REQUIRE(production >= 0);
  REQUIRE(business >= 0);
  REQUIRE(trade >= 0);
  REQUIRE(m->scenario().input_coefficients[trade][production] >= k_min_coefficient);
  REQUIRE(m->scenario().input_coefficients[trade][business] >= k_min_coefficient);
  REQUIRE(m->internal_zones() >= 4);
  m->firms = FirmStore{};
  auto add = [&](int sector, int zone, int size) {
    const std::uint32_t id = m->next_firm_id++;
    const size_t f = m->firms.append(id);
    m->index_firm(id, f);
    m->firms.sector[f] = static_cast<std::uint8_t>(sector);
    m->firms.zone[f] = static_cast<std::uint16_t>(zone);
    m->firms.employees[f] = {size, 0, 0, 0};
    return id;
  };
  constexpr int customer_zone = 2;
  const std::array<int, 4> p_size{2, 3, 5, 8}, p_zone{0, 1, 2, 3};
  const std::array<int, 4> b_size{1, 2, 3, 200}, b_zone{2, 2, 2, 2};
  std::array<std::uint32_t, 4> p_id{}, b_id{};
  for (size_t i = 0; i < 4; ++i) p_id[i] = add(production, p_zone[i], p_size[i]);
  for (size_t i = 0; i < 4; ++i) b_id[i] = add(business, b_zone[i], b_size[i]);
  constexpr int customers = 4000;
  std::set<std::uint32_t> retailers;
  for (int i = 0; i < customers; ++i) retailers.insert(add(trade, customer_zone, 5));
  SupplyChain sc;
  sc.build(*m);
  check_structure(*m, sc);

  auto weights = [&](const std::array<int, 4>& size, const std::array<int, 4>& zone) {
    std::array<double, 4> w{};
    for (size_t i = 0; i < 4; ++i)
      w[i] = size[i] * std::exp(-m->commuting.km(customer_zone, zone[i]) / 10.0);
    return w;
  };
  const auto groups = groups_of(sc.links());
  for (const auto& [sector, ids, w] : {std::make_tuple(production, p_id, weights(p_size, p_zone)),
                                       std::make_tuple(business, b_id, weights(b_size, b_zone))}) {
    std::vector<double> observed(4, 0.0), expected(4, 0.0);
    for (size_t i = 0; i < 4; ++i) expected[i] = customers * left_out(w, i);
    long incomplete = 0;
    for (const auto& [key, sup] : groups) {
      if (key.second != sector || !retailers.count(key.first)) continue;
      if (sup.size() != 3) {
        ++incomplete;
        continue;
      }
      for (size_t i = 0; i < 4; ++i)
        if (std::none_of(sup.begin(), sup.end(), [&](const auto& s) { return s.first == ids[i]; }))
          observed[i] += 1.0;
    }
    CHECK(incomplete == 0);
    CHECK(observed[0] + observed[1] + observed[2] + observed[3] == customers);
    const auto [x2, dof] = chi_square(observed, expected);
    INFO("sector " << m->scenario().sectors[sector].key << ": left out " << observed[0] << " "
                   << observed[1] << " " << observed[2] << " " << observed[3] << ", expected "
                   << expected[0] << " " << expected[1] << " " << expected[2] << " " << expected[3]
                   << "; chi-square " << x2 << " (" << dof << " dof)");
    CHECK(x2 < chi_square_critical(dof));
  }
}

TEST_CASE("Leontief: iterated orders on a three-firm economy converge to (I - A)^-1 e",
          "[supply_chain][leontief]") {
  // Sectors 0, 1, 2 of the default table get hand-set input shares, regional sourcing
  // and input coefficients (shares of a customer's inputs by supplying sector):
  //   customer 0: 0.20 from 0, 0.50 from 1, 0.30 from 2
  //   customer 1: 0.01 from 0, 0.39 from 1, 0.60 from 2
  //   customer 2: 0.50 from 0, 0.50 from 1
  // One firm per sector, so each customer has at most one possible supplier per input
  // sector and the graph is fully determined. Inputs from one's own sector have no
  // regional supplier (no self-links), and 0.01 is below the link threshold: both are
  // bought outside the region.
  Scenario s = baseline();
  const double input_share[3] = {0.5, 0.4, 0.6};
  const double sourcing[3] = {0.5, 0.5, 0.4};
  const double rows[3][3] = {{0.20, 0.50, 0.30}, {0.01, 0.39, 0.60}, {0.50, 0.50, 0.00}};
  for (size_t k = 0; k < 3; ++k) {
    s.sectors[k].input_share = input_share[k];
    s.sectors[k].regional_sourcing = sourcing[k];
    std::fill(s.input_coefficients[k].begin(), s.input_coefficients[k].end(), 0.0);
    for (size_t j = 0; j < 3; ++j) s.input_coefficients[k][j] = rows[k][j];
  }
  auto m = make_model(s);

  // Replace the firm store by three hand-made firms, one per sector, in three zones.
  m->firms = FirmStore{};
  std::array<std::uint32_t, 3> ids{};
  for (size_t k = 0; k < 3; ++k) {
    ids[k] = m->next_firm_id++;
    const size_t f = m->firms.append(ids[k]);
    m->index_firm(ids[k], f);
    m->firms.sector[f] = static_cast<std::uint8_t>(k);
    m->firms.zone[f] = static_cast<std::uint16_t>(k);
    m->firms.employees[f] = {1, 2 + static_cast<int>(k), 3, 0};
  }
  SupplyChain sc;
  sc.build(*m);
  // Links: 1->0, 2->0, 2->1, 0->2, 1->2 (supplier -> customer), every weight 1.
  const auto links = sc.links();
  REQUIRE(links.size() == 5);
  for (const Link& l : links) {
    CHECK(l.weight == 1.0);
    CHECK(l.supplier != l.customer);
    CHECK(!(l.supplier == ids[0] && l.customer == ids[1]));  // 0.01 < threshold
  }

  // A[i][j]: regional purchases from firm i per euro of output of firm j
  //        = input_share_j x regional_sourcing_j x coefficient[j][i] for linked i != j.
  //   alpha = input_share x sourcing = (0.25, 0.20, 0.24)
  //   A = [[0,     0,    0.12],
  //        [0.125, 0,    0.12],
  //        [0.075, 0.12, 0   ]]
  double a[3][3] = {};
  for (size_t j = 0; j < 3; ++j)
    for (size_t i = 0; i < 3; ++i)
      if (i != j && rows[j][i] >= k_min_coefficient)
        a[i][j] = input_share[j] * sourcing[j] * rows[j][i];
  CHECK(a[0][2] == Approx(0.12));
  CHECK(a[1][0] == Approx(0.125));
  CHECK(a[2][1] == Approx(0.12));
  CHECK(a[0][1] == 0.0);

  // (I - A)^-1 by the closed-form 3x3 inverse (adjugate / determinant).
  double b[3][3];
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) b[i][j] = (i == j ? 1.0 : 0.0) - a[i][j];
  const double det = b[0][0] * (b[1][1] * b[2][2] - b[1][2] * b[2][1]) -
                     b[0][1] * (b[1][0] * b[2][2] - b[1][2] * b[2][0]) +
                     b[0][2] * (b[1][0] * b[2][1] - b[1][1] * b[2][0]);
  double inv[3][3];
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      // inverse[i][j] = cofactor[j][i] / det
      const size_t r0 = j == 0 ? 1 : 0, r1 = j == 2 ? 1 : 2;
      const size_t c0 = i == 0 ? 1 : 0, c1 = i == 2 ? 1 : 2;
      const double minor = b[r0][c0] * b[r1][c1] - b[r0][c1] * b[r1][c0];
      inv[i][j] = ((i + j) % 2 ? -minor : minor) / det;
    }
  // By hand: det = 1 - 0.12 x 0.12 - 0.12 x (0.125 x 0.12 + 0.075) = 0.9748 = 2437/2500,
  // and (I - A)^-1 = [[2464, 36, 300], [335, 2477.5, 337.5], [225, 300, 2500]] / 2437.
  CHECK(det == Approx(0.9748).epsilon(1e-12));
  const double by_hand[3][3] = {{2464, 36, 300}, {335, 2477.5, 337.5}, {225, 300, 2500}};
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) CHECK(inv[i][j] == Approx(by_hand[i][j] / 2437).epsilon(1e-12));

  // Final demand e (exports, households, public) per firm; expected output y* = (I-A)^-1 e.
  const double e[3] = {100.0, 200.0, 300.0};
  double expected[3];
  for (size_t i = 0; i < 3; ++i)
    expected[i] = inv[i][0] * e[0] + inv[i][1] * e[1] + inv[i][2] * e[2];

  // The model's propagation: regional purchases follow output, orders follow purchases,
  // output = final demand + orders, until nothing changes.
  double y[3] = {e[0], e[1], e[2]};
  std::vector<double> orders;
  double unplaced = 0.0;
  int iterations = 0;
  for (; iterations < 500; ++iterations) {
    for (size_t f = 0; f < 3; ++f) {
      const size_t k = m->firms.sector[f];
      m->firms.regional_inputs[f] =
          m->scenario().sectors[k].input_share * m->scenario().sectors[k].regional_sourcing * y[f];
    }
    unplaced = 0.0;
    sc.distribute_orders(*m, orders, unplaced);
    double change = 0.0;
    for (size_t f = 0; f < 3; ++f) {
      const double next = e[f] + orders[f];
      change = std::max(change, std::abs(next - y[f]) / y[f]);
      y[f] = next;
    }
    if (change < 1e-15) break;
  }
  INFO("iterations " << iterations);
  CHECK(iterations < 100);
  for (size_t i = 0; i < 3; ++i) {
    INFO("firm " << i << ": y " << y[i] << " expected " << expected[i]);
    CHECK(y[i] == Approx(expected[i]).epsilon(1e-9));
    CHECK(y[i] / e[i] == Approx(expected[i] / e[i]).epsilon(1e-9));
  }
  CHECK(y[0] == Approx(343600.0 / 2437).epsilon(1e-9));  // (2464*100 + 36*200 + 300*300)/2437
  CHECK(y[1] == Approx(630250.0 / 2437).epsilon(1e-9));  // (335*100 + 2477.5*200 + 337.5*300)/2437
  CHECK(y[2] == Approx(832500.0 / 2437).epsilon(1e-9));  // (225*100 + 300*200 + 2500*300)/2437
  // Leakage: firm 0's inputs from its own sector (0.20) and firm 1's from sector 0 (0.01,
  // below the threshold) and its own sector (0.39) are bought outside.
  const double ri0 = 0.25 * y[0], ri1 = 0.20 * y[1];
  CHECK(unplaced == Approx(0.20 * ri0 + 0.40 * ri1).epsilon(1e-9));
  // Money balance of the converged flow: regional purchases = orders + unplaced.
  const double purchases = ri0 + ri1 + 0.24 * y[2];
  CHECK(orders[0] + orders[1] + orders[2] + unplaced == Approx(purchases).epsilon(1e-12));
}

TEST_CASE("supply chain timings on the full-scale region", "[.][perf][supply_chain]") {
  // Run by hand: test_supply_chain "[perf]". Wall times; the builds also report the page
  // faults and system time of first touching the graph's memory.
  auto m = make_model(baseline(), 8192, 1.0);
  set_regional_inputs(*m, 1);
  using Clock = std::chrono::steady_clock;
  auto seconds = [](auto t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto usage = [] {  // page faults, user and system CPU seconds of the process
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return std::make_tuple(u.ru_minflt, u.ru_utime.tv_sec + 1e-6 * u.ru_utime.tv_usec,
                           u.ru_stime.tv_sec + 1e-6 * u.ru_stime.tv_usec);
  };
  SupplyChain sc;
  std::vector<double> build;
  long faults = 0;
  double user = 0.0, system = 0.0;
  for (int r = 0; r < 5; ++r) {
    SupplyChain fresh;  // timed without freeing a previous graph
    const auto u0 = usage();
    const auto t0 = Clock::now();
    fresh.build(*m);
    build.push_back(seconds(t0));
    const auto u1 = usage();
    if (r == 0) {
      faults = std::get<0>(u1) - std::get<0>(u0);
      user = std::get<1>(u1) - std::get<1>(u0);
      system = std::get<2>(u1) - std::get<2>(u0);
    }
    if (r == 4) sc = std::move(fresh);
  }
  auto distribute = [&](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    std::vector<double> orders, times;
    double unplaced = 0.0;
    for (int r = 0; r < 200; ++r) {
      const auto t0 = Clock::now();
      sc.distribute_orders(*m, orders, unplaced);
      times.push_back(seconds(t0));
    }
    std::sort(times.begin(), times.end());
    return std::make_pair(times[0], times[times.size() / 2]);
  };
  const auto d2 = distribute(2), d1 = distribute(1);
  // Twelve months of exits (0.3 % of the firms a month) and 60 entrants a month.
  FirmStore& fs = m->firms;
  double update = 0.0;
  size_t exits = 0;
  for (int month = 0; month < 12; ++month) {
    std::vector<std::uint32_t> exited, entrants;
    for (size_t f = 0; f < fs.size(); ++f)
      if (candidate(fs, f) && (f + static_cast<size_t>(month)) % 300 == 7)
        exited.push_back(fs.id[f]);
    for (std::uint32_t id : exited) fs.alive[index_of(*m, id)] = 0;
    for (int i = 0; i < 60; ++i) {
      const std::uint32_t id = m->next_firm_id++;
      const size_t f = fs.append(id);
      m->index_firm(id, f);
      fs.sector[f] = static_cast<std::uint8_t>(i % m->scenario().sectors.size());
      fs.zone[f] = static_cast<std::uint16_t>(i % m->internal_zones());
      entrants.push_back(id);
    }
    const auto t0 = Clock::now();
    sc.update(*m, exited, entrants, m->now() + month);
    update += seconds(t0) / 12.0;
    exits += exited.size();
  }
  fs.compact();
  m->rebuild_indices();
  const auto t0 = Clock::now();
  sc.reindex(*m);
  const double reindex = seconds(t0);
  WARN("firms " << fs.size() << ", links " << sc.edges() << ", cross-over links "
                << sc.cross_links() << "\nbuild: first " << build[0] * 1e3 << " ms (" << faults
                << " page faults, CPU " << user * 1e3 << " ms user + " << system * 1e3
                << " ms system), then " << build[1] * 1e3 << " " << build[2] * 1e3 << " "
                << build[3] * 1e3 << " " << build[4] * 1e3 << " ms\ndistribute_orders: best/median "
                << d2.first * 1e3 << "/" << d2.second * 1e3 << " ms at 2 threads, "
                << d1.first * 1e3 << "/" << d1.second * 1e3 << " ms at 1 thread"
                << "\nupdate: " << update * 1e3 << " ms a month (" << exits / 12.0
                << " exits, 60 entrants)\nreindex after compaction: " << reindex * 1e3 << " ms");
  CHECK(d2.first < 1e-3);
}

TEST_CASE("supply chain timings in a running full-scale model", "[.][perf][model][supply_chain]") {
  // Run by hand: test_supply_chain "[model]". The default region runs a few years, so that
  // the links carry the layout of a history of quarterly rewiring; then the order flow is
  // timed with cold caches (as in the model, where every other phase runs in between) and
  // warm, and quarters of exits (small firms) and entrants (the model's own) are rewired,
  // alternately at 1 and 2 threads, with a compaction of the store and a reindex per year.
  // Medians and best of wall times (at 1 thread: CPU time of the thread, less disturbed by
  // other processes).
  RunConfig c;
  c.seed = k_seed;
  c.scale = 1.0;
  c.until_year = 2031;
  auto m = std::make_unique<Model>(baseline(), c);
  // Four years, up to a month that rewired the chain (the model rewires once a quarter).
  for (int month = 0; month < 12 * 4 || m->now() % 3 != 0; ++month) m->step();
  using Clock = std::chrono::steady_clock;
  auto seconds = [](auto t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto cpu = [] {  // CPU seconds of the calling thread (at 1 thread: all of the work)
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<char> flush(size_t{96} << 20, 1);
  auto evict = [&] {  // writes more memory than the caches hold
    for (size_t i = 0; i < flush.size(); i += 64) flush[i] = static_cast<char>(flush[i] + 1);
  };
  SupplyChain& sc = m->supply_chain;
  FirmStore& fs = m->firms;
  std::vector<double> orders;
  double unplaced = 0.0, checksum = 0.0;
  auto distribute = [&](int threads, bool cold) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<size_t>(threads));
    std::vector<double> times;
    for (int r = 0; r < (cold ? 30 : 100); ++r) {
      if (cold) evict();
      const auto t0 = Clock::now();
      const double c0 = cpu();
      sc.distribute_orders(*m, orders, unplaced);
      times.push_back(threads == 1 ? cpu() - c0 : seconds(t0));
      checksum += orders[r % orders.size()];
    }
    return std::make_pair(*std::min_element(times.begin(), times.end()), median(times));
  };
  std::vector<double> update[2], reindex[2], update_cpu, reindex_cpu;
  std::mt19937_64 gen(5);
  size_t exits = 0, entrants_total = 0;
  std::int32_t now = m->now();
  for (int quarter = 0; quarter < 16; ++quarter) {
    const int threads = 1 + quarter % 2;
    std::vector<std::uint32_t> exited, entrants;
    for (int month = 0; month < 3; ++month, ++now) {
      for (size_t f = 0; f < fs.size(); ++f)
        if (candidate(fs, f) && fs.headcount(f) < 10 && gen() % 150 == 0) {
          fs.alive[f] = 0;
          exited.push_back(fs.id[f]);
        }
      regio::firms::create_entrants(*m, now, entrants);
    }
    exits += exited.size();
    entrants_total += entrants.size();
    evict();
    {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                static_cast<size_t>(threads));
      const auto t0 = Clock::now();
      const double c0 = cpu();
      sc.update(*m, exited, entrants, now);
      update[threads - 1].push_back(seconds(t0));
      if (threads == 1) update_cpu.push_back(cpu() - c0);
    }
    if (quarter % 4 == 3) {  // year ends: 1 and 2 threads in turn
      const int year_threads = 1 + quarter / 4 % 2;
      fs.compact();
      m->rebuild_indices();
      evict();
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                static_cast<size_t>(year_threads));
      const auto t0 = Clock::now();
      const double c0 = cpu();
      sc.reindex(*m);
      reindex[year_threads - 1].push_back(seconds(t0));
      if (year_threads == 1) reindex_cpu.push_back(cpu() - c0);
    }
  }
  const auto d1c = distribute(1, true), d2c = distribute(2, true), d1w = distribute(1, false),
             d2w = distribute(2, false);
  WARN("firms " << fs.size() << ", links " << sc.edges()
                << "\ndistribute_orders best/median cold: " << d1c.first * 1e3 << "/"
                << d1c.second * 1e3 << " ms at 1 thread, " << d2c.first * 1e3 << "/"
                << d2c.second * 1e3 << " ms at 2; warm: " << d1w.first * 1e3 << "/"
                << d1w.second * 1e3 << " ms at 1, " << d2w.first * 1e3 << "/" << d2w.second * 1e3
                << " ms at 2\nupdate a quarter (" << exits / 16.0 << " exits, "
                << entrants_total / 16.0 << " entrants), best/median: "
                << *std::min_element(update[0].begin(), update[0].end()) * 1e3 << "/"
                << median(update[0]) * 1e3 << " ms at 1 thread, "
                << *std::min_element(update[1].begin(), update[1].end()) * 1e3 << "/"
                << median(update[1]) * 1e3 << " ms at 2; CPU at 1 thread "
                << median(update_cpu) * 1e3 << " ms\nreindex: " << reindex[0][0] * 1e3 << " "
                << reindex[0][1] * 1e3 << " ms at 1 thread, " << reindex[1][0] * 1e3 << " "
                << reindex[1][1] * 1e3 << " ms at 2, CPU at 1 thread " << reindex_cpu[0] * 1e3
                << " " << reindex_cpu[1] * 1e3 << " ms (checksum " << checksum << ")");
  sc.check();
}
