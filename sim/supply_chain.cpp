// The supply-chain graph. The Boost graph is the record of the links (who supplies whom,
// with which weight, in which order they were made); build and reindex flatten it into
// per-supplier arrays in firm index order, and update patches those arrays where links
// changed, so that the monthly order flow is a parallel gather over contiguous memory.
// Random draws are keyed by the customer's id, the input sector and (for replacements)
// the month, never by thread or visiting order.
#include "sim/supply_chain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/graph/adjacency_list.hpp>
#include <cmath>
#include <numeric>
#include <tuple>
#include <utility>

#include "sim/model.hpp"

namespace regio {

namespace {

/// A customer links to regional suppliers only for input sectors with at least this share
/// of its intermediate inputs. The coefficient table is an estimate rounded to about 0.05;
/// smaller shares are within its rounding and would add links (memory, time) that carry
/// almost nothing. Purchases from such sectors are bought outside the region (`unplaced`).
constexpr double k_min_input_coefficient = 0.02;

/// Suppliers a customer picks per input sector (estimate: firms buy most of an input from
/// a handful of main suppliers). With 6-7 linked input sectors per customer in the default
/// table this gives about 20 links per firm (some 500,000 at full scale).
constexpr size_t k_suppliers_per_sector = 3;

/// Distance decay of supplier choice: weight exp(-km / scale) (estimate: within a region
/// about 25 km across, a supplier 10 km away is e^-1 as likely as an equal one next door).
constexpr double k_distance_scale_km = 10.0;

/// Rejected draws (a firm already taken) per (customer, sector) after which the remaining
/// suppliers are drawn from an explicit list of the candidates without the taken ones:
/// the same distribution, but bounded work when the customer or its current suppliers
/// hold nearly all of a sector's weight.
constexpr int k_max_misses = 16;

/// Key of the random draws: the customer id, the input sector and whether it is the first
/// choice (build, entrants) or a replacement after an exit (then the month is the step).
std::uint64_t draw_key(std::uint32_t customer_id, size_t sector, bool rewire) {
  return std::uint64_t{customer_id} | (std::uint64_t{sector} << 32) | (std::uint64_t{rewire} << 40);
}

struct EdgeProp {
  double weight = 0.0;  ///< share of the customer's regional purchases of input_sector
  std::uint8_t input_sector = 0;
};

// Out-edges and in-edges are vectors: insertion order is kept and removal is stable, so a
// supplier's out-edges (its customers) stay in creation order.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS,
                                    boost::no_property, EdgeProp>;
using Vertex = Graph::vertex_descriptor;

/// Reserves room for a vertex's out- and in-links. adjacency_list has no public reserve;
/// out_edge_list() and in_edge_list() are the accessors its own add_edge uses.
void reserve_links(Graph& g, Vertex v, size_t out, size_t in) {
  g.out_edge_list(v).reserve(out);
  boost::in_edge_list(g, v).reserve(in);
}

double supplier_size(const FirmStore& fs, size_t f) {
  return static_cast<double>(std::max<std::int32_t>(1, fs.headcount(f)));
}

/// Knowledge institutions are funded from outside the region for their full staff and do
/// not sell inputs to firms: they are customers, never suppliers.
bool is_candidate(const FirmStore& fs, size_t f) {
  return fs.alive[f] && !(fs.kind[f] & k_institution);
}

/// Candidate suppliers of one sector: firm indices grouped by zone (index order within a
/// zone) with an alias table per zone block to draw a firm by size in O(1), and per
/// customer zone the cumulative zone weights (zone size x distance decay).
struct SectorTable {
  std::vector<std::uint32_t> firm;
  std::vector<double> prob;               ///< alias method: keep the slot with this probability
  std::vector<std::uint32_t> alias;       ///< otherwise take this slot (within the zone block)
  std::vector<std::uint32_t> zone_begin;  ///< zones + 1 offsets into firm
  std::vector<double> zone_total;         ///< size of the zone's candidates
  std::vector<double> zone_cum;           ///< [customer zone * zones + z]
};

struct Tables {
  size_t zones = 0;
  std::vector<double> decay;  ///< [customer zone * zones + supplier zone]
  std::vector<SectorTable> sector;
};

/// First index i in [0, n) with cum[i] > x; values past the end fall on the last index with
/// positive weight (rounding of u x total).
size_t locate(const double* cum, size_t n, double x) {
  size_t i = static_cast<size_t>(std::upper_bound(cum, cum + n, x) - cum);
  if (i < n) return i;
  i = n - 1;
  while (i > 0 && cum[i] <= cum[i - 1]) --i;
  return i;
}

/// Walker's alias table (Vose's construction) for weights w[0..n) summing to total: slot i
/// is kept with probability prob[i], else alias[i] is taken. Deterministic.
void make_alias(const double* w, size_t n, double total, double* prob, std::uint32_t* alias) {
  std::vector<std::uint32_t> small, large;
  std::vector<double> scaled(n);
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = w[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (std::uint32_t i : large) prob[i] = 1.0, alias[i] = i;
  for (std::uint32_t i : small) prob[i] = 1.0, alias[i] = i;  // rounding leftovers
}

/// A slot of an alias table of n slots from one uniform draw u.
size_t alias_draw(const double* prob, const std::uint32_t* alias, size_t n, double u) {
  const double x = u * static_cast<double>(n);
  const size_t i = std::min(static_cast<size_t>(x), n - 1);
  return x - static_cast<double>(i) < prob[i] ? i : alias[i];
}

/// Index of the weight in which x (in [0, sum of w)) falls; the last positive weight
/// absorbs rounding.
size_t locate_linear(const std::vector<double>& w, double x) {
  size_t last = w.size();
  for (size_t i = 0; i < w.size(); ++i) {
    if (!(w[i] > 0.0)) continue;
    if (x < w[i]) return i;
    x -= w[i];
    last = i;
  }
  return last;
}

Tables make_tables(const Model& m) {
  const FirmStore& fs = m.firms;
  const size_t ns = m.scenario().sectors.size();
  Tables t;
  t.zones = static_cast<size_t>(m.commuting.zones());
  const size_t nz = t.zones;
  t.sector.resize(ns);
  for (auto& s : t.sector) {
    s.zone_begin.assign(nz + 1, 0);
    s.zone_total.assign(nz, 0.0);
  }
  // Counting sort by (sector, zone), keeping index order within each zone.
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!is_candidate(fs, f)) continue;
    if (fs.zone[f] >= nz)
      throw InvariantError(fmt::format(
          "supply chain: firm {} is in zone {} but the commuting matrix has {} zones (build it "
          "first)",
          fs.id[f], fs.zone[f], nz));
    ++t.sector[fs.sector[f]].zone_begin[fs.zone[f] + 1];
  }
  for (auto& s : t.sector) {
    std::partial_sum(s.zone_begin.begin(), s.zone_begin.end(), s.zone_begin.begin());
    s.firm.resize(s.zone_begin[nz]);
    s.prob.resize(s.zone_begin[nz]);
    s.alias.resize(s.zone_begin[nz]);
  }
  std::vector<std::uint32_t> fill(ns * nz, 0);
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!is_candidate(fs, f)) continue;
    SectorTable& s = t.sector[fs.sector[f]];
    const size_t z = fs.zone[f];
    s.firm[s.zone_begin[z] + fill[fs.sector[f] * nz + z]++] = static_cast<std::uint32_t>(f);
  }
  std::vector<double> w;
  for (auto& s : t.sector)
    for (size_t z = 0; z < nz; ++z) {
      const size_t b = s.zone_begin[z], n = s.zone_begin[z + 1] - b;
      if (n == 0) continue;
      w.resize(n);
      for (size_t i = 0; i < n; ++i) w[i] = supplier_size(fs, s.firm[b + i]);
      s.zone_total[z] = std::accumulate(w.begin(), w.end(), 0.0);
      make_alias(w.data(), n, s.zone_total[z], &s.prob[b], &s.alias[b]);
    }
  t.decay.resize(nz * nz);
  for (size_t o = 0; o < nz; ++o)
    for (size_t d = 0; d < nz; ++d)
      t.decay[o * nz + d] =
          std::exp(-m.commuting.km(static_cast<int>(o), static_cast<int>(d)) / k_distance_scale_km);
  for (auto& s : t.sector) {
    s.zone_cum.assign(nz * nz, 0.0);
    for (size_t o = 0; o < nz; ++o) {
      double run = 0.0;
      for (size_t d = 0; d < nz; ++d) {
        run += s.zone_total[d] * t.decay[o * nz + d];
        s.zone_cum[o * nz + d] = run;
      }
    }
  }
  return t;
}

/// A few firm indices without allocation.
struct Few {
  std::array<std::uint32_t, 2 * k_suppliers_per_sector + 2> v{};
  size_t n = 0;
  void push(std::uint32_t x) {
    if (n < v.size()) v[n++] = x;
  }
  bool has(std::uint32_t x) const {
    return std::find(v.begin(), v.begin() + n, x) != v.begin() + n;
  }
};

/// Draws up to `want` suppliers of sector k for a customer in zone zc, distinct from each
/// other and from `taken` (the customer and its current suppliers of k): zone by size x
/// distance decay, then firm by size within the zone (alias table), i.e. firm f with probability
/// proportional to size(f) x exp(-km(zc, zone f) / scale). If no more candidates remain
/// than wanted, all are taken (in table order).
void draw_suppliers(const FirmStore& fs, const Tables& t, size_t k, size_t zc, size_t want,
                    const Few& taken, Rng& rng, Few& out) {
  const SectorTable& s = t.sector[k];
  size_t blocked = 0;
  for (size_t i = 0; i < taken.n; ++i)
    if (fs.sector[taken.v[i]] == k && is_candidate(fs, taken.v[i])) ++blocked;
  const size_t available = s.firm.size() - std::min(blocked, s.firm.size());
  if (available <= want) {
    for (std::uint32_t f : s.firm)
      if (!taken.has(f)) out.push(f);
    return;
  }
  const size_t nz = t.zones;
  const double* zone_cum = &s.zone_cum[zc * nz];
  const double total = zone_cum[nz - 1];
  if (!(total > 0.0)) return;  // candidates only where the distance decay underflows
  const size_t start = out.n;
  int misses = 0;
  while (out.n - start < want && misses < k_max_misses) {
    const size_t z = locate(zone_cum, nz, rng.uniform() * total);
    const size_t b = s.zone_begin[z], e = s.zone_begin[z + 1];
    const double u = rng.uniform();
    if (b == e) {  // not reached: locate() picks zones with weight
      ++misses;
      continue;
    }
    const std::uint32_t f = s.firm[b + alias_draw(&s.prob[b], &s.alias[b], e - b, u)];
    if (taken.has(f) || out.has(f)) {
      ++misses;
      continue;
    }
    out.push(f);
  }
  if (out.n - start == want) return;
  // Explicit weights with the taken firms removed; each pick is removed in turn.
  std::vector<double> w(s.firm.size(), 0.0);
  for (size_t z = 0; z < nz; ++z)
    for (size_t i = s.zone_begin[z]; i < s.zone_begin[z + 1]; ++i)
      if (!taken.has(s.firm[i]) && !out.has(s.firm[i]))
        w[i] = supplier_size(fs, s.firm[i]) * t.decay[zc * nz + z];
  while (out.n - start < want) {
    const double sum = std::accumulate(w.begin(), w.end(), 0.0);
    if (!(sum > 0.0)) break;
    const size_t i = locate_linear(w, rng.uniform() * sum);
    out.push(s.firm[i]);
    w[i] = 0.0;
  }
}

/// What update() changed, by firm index, for the order flow.
struct FlowPatch {
  std::vector<std::uint8_t> gone;       ///< exited now: all its links are gone
  std::vector<std::uint8_t> supplier;   ///< its customers (out-links) changed
  std::vector<std::uint8_t> customer;   ///< its suppliers (in-links) changed
  std::vector<std::uint8_t> regrouped;  ///< a supplier group of this customer was reweighted
  struct Added {                        ///< a new link, in creation order (seq)
    std::uint32_t supplier, seq, customer;
    double factor;
  };
  struct Reweighted {  ///< an old link with a new weight
    std::uint32_t supplier, customer;
    double factor;
  };
  std::vector<Added> added;
  std::vector<Reweighted> reweighted;
  explicit FlowPatch(size_t n) : gone(n, 0), supplier(n, 0), customer(n, 0), regrouped(n, 0) {}
};

}  // namespace

struct SupplyChain::Impl {
  Graph g;
  std::vector<std::uint32_t> vertex_id;     ///< vertex -> firm id
  std::vector<std::uint32_t> vertex_index;  ///< vertex -> firm index (k_none when gone)
  std::vector<std::uint32_t> id_vertex;     ///< firm id -> vertex (k_none)
  /// Input coefficients per customer sector, rescaled so that each row sums to 1 (the
  /// scenario loader accepts rows within a rounding tolerance; money must be conserved).
  std::vector<std::vector<double>> coef;
  std::vector<std::vector<std::uint8_t>> linked;  ///< [customer sector]: sectors to link

  // The order flow, flattened per supplier firm index (rebuilt after every change).
  std::vector<std::uint32_t> ids;        ///< m.firms.id when the flow was built (staleness check)
  std::vector<std::uint32_t> out_begin;  ///< per firm index + 1: offsets into the next two
  std::vector<std::uint32_t> out_customer;  ///< customer firm index, in link creation order
  std::vector<double> out_factor;           ///< customer's input coefficient of the sector x weight
  std::vector<double> unplaced_share;       ///< per firm index: inputs without a regional supplier
  size_t cross = 0;
  std::vector<std::uint32_t> spare_begin, spare_customer;  ///< reused by update_flow
  std::vector<double> spare_factor;

  void prepare_coefficients(const Model& m);
  Vertex vertex_of(const Model& m, size_t f);
  void refresh_indices(const Model& m);
  size_t slots_of(const FirmStore& fs, size_t c) const {
    return linked[fs.sector[c]].size() * k_suppliers_per_sector;
  }
  void pick_for_customer(const Model& m, const Tables& t, size_t c, std::uint32_t* slots) const;
  void add_customer_links(const Model& m, size_t c, const std::uint32_t* slots);
  void reweight(const Model& m, Vertex customer, std::uint8_t sector);
  /// The flow arrays from the whole graph (build, reindex).
  void rebuild_flow(const Model& m);
  /// The flow arrays after update(), from the previous ones and the patch: the same
  /// arrays as rebuild_flow without walking the whole graph.
  void update_flow(const Model& m, const FlowPatch& patch);
  void count_cross(const Model& m);
  /// Orders along a link per euro of the customer's regional purchases.
  double factor(const FirmStore& fs, size_t customer, const EdgeProp& p) const {
    return coef[fs.sector[customer]][p.input_sector] * p.weight;
  }
};

void SupplyChain::Impl::prepare_coefficients(const Model& m) {
  const auto& io = m.scenario().input_coefficients;
  const size_t ns = m.scenario().sectors.size();
  coef.assign(ns, std::vector<double>(ns, 0.0));
  linked.assign(ns, {});
  for (size_t c = 0; c < ns; ++c) {
    double sum = 0.0;
    for (size_t k = 0; k < ns; ++k) sum += io[c][k];
    for (size_t k = 0; k < ns; ++k) {
      coef[c][k] = sum > 0.0 ? io[c][k] / sum : 0.0;
      if (io[c][k] >= k_min_input_coefficient) linked[c].push_back(static_cast<std::uint8_t>(k));
    }
  }
}

Vertex SupplyChain::Impl::vertex_of(const Model& m, size_t f) {
  const std::uint32_t id = m.firms.id[f];
  if (id < id_vertex.size() && id_vertex[id] != k_none) return id_vertex[id];
  const Vertex v = boost::add_vertex(g);
  vertex_id.push_back(id);
  vertex_index.push_back(static_cast<std::uint32_t>(f));
  if (id >= id_vertex.size())
    id_vertex.resize(std::max<size_t>(id + 1, id_vertex.size() * 2), k_none);
  id_vertex[id] = static_cast<std::uint32_t>(v);
  return v;
}

void SupplyChain::Impl::refresh_indices(const Model& m) {
  const FirmStore& fs = m.firms;
  for (size_t v = 0; v < vertex_id.size(); ++v) {
    const std::uint32_t f = m.firm_index(vertex_id[v]);
    vertex_index[v] = (f != k_none && f < fs.size() && fs.id[f] == vertex_id[v]) ? f : k_none;
  }
}

/// Draws customer c's suppliers for every input sector it links to, keyed by (customer id,
/// sector), into `slots` (k_suppliers_per_sector per sector; k_none where fewer exist).
void SupplyChain::Impl::pick_for_customer(const Model& m, const Tables& t, size_t c,
                                          std::uint32_t* slots) const {
  const FirmStore& fs = m.firms;
  Few taken;
  taken.push(static_cast<std::uint32_t>(c));
  for (std::uint8_t k : linked[fs.sector[c]]) {
    Rng rng = m.rng(Stream::supply_chain, draw_key(fs.id[c], k, false), 0);
    Few picked;
    draw_suppliers(fs, t, k, fs.zone[c], k_suppliers_per_sector, taken, rng, picked);
    for (size_t i = 0; i < k_suppliers_per_sector; ++i)
      *slots++ = i < picked.n ? picked.v[i] : k_none;
  }
}

/// Adds the links drawn by pick_for_customer; weights are the suppliers' size shares.
void SupplyChain::Impl::add_customer_links(const Model& m, size_t c, const std::uint32_t* slots) {
  const FirmStore& fs = m.firms;
  const Vertex vc = vertex_of(m, c);
  for (std::uint8_t k : linked[fs.sector[c]]) {
    double total = 0.0;
    for (size_t i = 0; i < k_suppliers_per_sector; ++i)
      if (slots[i] != k_none) total += supplier_size(fs, slots[i]);
    for (size_t i = 0; i < k_suppliers_per_sector; ++i)
      if (slots[i] != k_none)
        boost::add_edge(vertex_of(m, slots[i]), vc,
                        EdgeProp{supplier_size(fs, slots[i]) / total, k}, g);
    slots += k_suppliers_per_sector;
  }
}

/// Weights of a customer's suppliers of one sector after a change: their current size
/// shares.
void SupplyChain::Impl::reweight(const Model& m, Vertex customer, std::uint8_t sector) {
  double total = 0.0;
  for (auto [e, end] = boost::in_edges(customer, g); e != end; ++e)
    if (g[*e].input_sector == sector)
      total += supplier_size(m.firms, vertex_index[boost::source(*e, g)]);
  for (auto [e, end] = boost::in_edges(customer, g); e != end; ++e)
    if (g[*e].input_sector == sector)
      g[*e].weight = supplier_size(m.firms, vertex_index[boost::source(*e, g)]) / total;
}

void SupplyChain::Impl::rebuild_flow(const Model& m) {
  const FirmStore& fs = m.firms;
  const size_t n = fs.size(), ns = coef.size();
  ids = fs.id;
  // Room per supplier from the vertices' out-degrees, then one pass over the graph's edge
  // list in creation order places each link: a supplier's customers stay in creation
  // order. The same pass marks the input sectors each customer is supplied in.
  out_begin.assign(n + 1, 0);
  for (size_t f = 0; f < n; ++f) {
    const std::uint32_t id = fs.id[f];
    const std::uint32_t v = id < id_vertex.size() ? id_vertex[id] : k_none;
    out_begin[f + 1] = out_begin[f] + (v != k_none && vertex_index[v] == f
                                           ? static_cast<std::uint32_t>(boost::out_degree(v, g))
                                           : 0u);
  }
  if (out_begin[n] != boost::num_edges(g))
    throw InvariantError("supply chain: links of firms that are no longer in the store");
  out_customer.resize(out_begin[n]);
  out_factor.resize(out_begin[n]);
  std::vector<std::uint32_t> pos(out_begin.begin(), out_begin.end() - 1);
  std::vector<std::uint8_t> supplied(n * ns, 0);  ///< [customer][sector]
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    const std::uint32_t s = vertex_index[boost::source(*it, g)];
    const std::uint32_t c = vertex_index[boost::target(*it, g)];
    if (c == k_none)
      throw InvariantError(fmt::format("supply chain: a link of firm {} outlived the firm",
                                       vertex_id[boost::target(*it, g)]));
    const EdgeProp& p = g[*it];
    const std::uint32_t at = pos[s]++;
    out_customer[at] = c;
    out_factor[at] = factor(fs, c, p);
    supplied[c * ns + p.input_sector] = 1;
  }
  unplaced_share.assign(n, 0.0);
  for (size_t f = 0; f < n; ++f) {
    const auto& row = coef[fs.sector[f]];
    double share = 0.0;
    for (size_t k = 0; k < ns; ++k)
      if (row[k] > 0.0 && !supplied[f * ns + k]) share += row[k];
    unplaced_share[f] = share;
  }
  count_cross(m);
}

void SupplyChain::Impl::update_flow(const Model& m, const FlowPatch& patch) {
  const FirmStore& fs = m.firms;
  const size_t n = fs.size(), old_n = ids.size();
  // Only appends since the last flow (no compaction in between): else rebuild it all.
  if (old_n > n || !std::equal(ids.begin(), ids.end(), fs.id.begin())) {
    rebuild_flow(m);
    return;
  }
  // A changed supplier keeps its links to customers that stayed, in their order, and gets
  // its new links appended in creation order: exactly its out-edges in the graph.
  std::vector<FlowPatch::Added> added = patch.added;
  std::sort(added.begin(), added.end(), [](const auto& x, const auto& y) {
    return std::tie(x.supplier, x.seq) < std::tie(y.supplier, y.seq);
  });
  std::vector<FlowPatch::Reweighted> reweighted = patch.reweighted;
  std::sort(reweighted.begin(), reweighted.end(), [](const auto& x, const auto& y) {
    return std::tie(x.supplier, x.customer) < std::tie(y.supplier, y.customer);
  });
  auto changed = [&](size_t f) { return f >= old_n || patch.supplier[f]; };
  auto added_range = [&](size_t f) {
    return std::equal_range(added.begin(), added.end(),
                            FlowPatch::Added{static_cast<std::uint32_t>(f), 0, 0, 0.0},
                            [](const auto& x, const auto& y) { return x.supplier < y.supplier; });
  };
  spare_begin.assign(n + 1, 0);
  for (size_t f = 0; f < n; ++f) {
    size_t len = 0;
    if (!changed(f)) {
      len = out_begin[f + 1] - out_begin[f];
    } else if (!patch.gone[f]) {
      if (f < old_n)
        for (std::uint32_t j = out_begin[f]; j < out_begin[f + 1]; ++j)
          len += patch.gone[out_customer[j]] ? 0 : 1;
      const auto [first, last] = added_range(f);
      len += static_cast<size_t>(last - first);
    }
    spare_begin[f + 1] = spare_begin[f] + static_cast<std::uint32_t>(len);
  }
  if (spare_begin[n] != boost::num_edges(g))
    throw InvariantError("supply chain: the order flow lost track of the graph");
  spare_customer.resize(spare_begin[n]);
  spare_factor.resize(spare_begin[n]);
  m.for_chunks(n, [&](size_t, size_t b, size_t e) {
    for (size_t f = b; f < e; ++f) {
      size_t at = spare_begin[f];
      if (!changed(f)) {
        std::copy(out_customer.begin() + out_begin[f], out_customer.begin() + out_begin[f + 1],
                  spare_customer.begin() + static_cast<std::ptrdiff_t>(at));
        std::copy(out_factor.begin() + out_begin[f], out_factor.begin() + out_begin[f + 1],
                  spare_factor.begin() + static_cast<std::ptrdiff_t>(at));
        continue;
      }
      if (patch.gone[f]) continue;
      if (f < old_n)
        for (std::uint32_t j = out_begin[f]; j < out_begin[f + 1]; ++j) {
          const std::uint32_t c = out_customer[j];
          if (patch.gone[c]) continue;
          double factor = out_factor[j];
          if (patch.regrouped[c]) {
            const auto it = std::lower_bound(
                reweighted.begin(), reweighted.end(),
                FlowPatch::Reweighted{static_cast<std::uint32_t>(f), c, 0.0},
                [](const auto& x, const auto& y) {
                  return std::tie(x.supplier, x.customer) < std::tie(y.supplier, y.customer);
                });
            if (it != reweighted.end() && it->supplier == f && it->customer == c)
              factor = it->factor;
          }
          spare_customer[at] = c;
          spare_factor[at++] = factor;
        }
      const auto [first, last] = added_range(f);
      for (auto it = first; it != last; ++it) {
        spare_customer[at] = it->customer;
        spare_factor[at++] = it->factor;
      }
    }
  });
  out_begin.swap(spare_begin);
  out_customer.swap(spare_customer);
  out_factor.swap(spare_factor);
  // Unplaced shares of the customers whose suppliers changed, and of new firms.
  unplaced_share.resize(n, 0.0);
  std::vector<std::uint8_t> supplied(coef.size());
  for (size_t f = 0; f < n; ++f) {
    if (f < old_n && !patch.customer[f]) continue;
    const auto& row = coef[fs.sector[f]];
    std::fill(supplied.begin(), supplied.end(), 0);
    const std::uint32_t id = fs.id[f];
    const std::uint32_t v = id < id_vertex.size() ? id_vertex[id] : k_none;
    if (v != k_none && vertex_index[v] == f)
      for (auto [it, end] = boost::in_edges(v, g); it != end; ++it)
        supplied[g[*it].input_sector] = 1;
    double share = 0.0;
    for (size_t k = 0; k < row.size(); ++k)
      if (row[k] > 0.0 && !supplied[k]) share += row[k];
    unplaced_share[f] = share;
  }
  ids = fs.id;
  count_cross(m);
}

void SupplyChain::Impl::count_cross(const Model& m) {
  const FirmStore& fs = m.firms;
  const size_t n = fs.size();
  std::vector<std::uint8_t> sme(n);
  for (size_t f = 0; f < n; ++f) sme[f] = fs.is_sme(f);
  std::vector<size_t> part(m.chunk_count(n), 0);  // integers: exact in any order
  m.for_chunks(n, [&](size_t chunk, size_t b, size_t e) {
    for (size_t s = b; s < e; ++s)
      for (std::uint32_t j = out_begin[s]; j < out_begin[s + 1]; ++j) {
        const std::uint32_t c = out_customer[j];
        if (fs.cluster[s] != fs.cluster[c] || sme[s] != sme[c]) ++part[chunk];
      }
  });
  cross = std::accumulate(part.begin(), part.end(), size_t{0});
}

SupplyChain::SupplyChain() : impl_(std::make_unique<Impl>()) {}
SupplyChain::~SupplyChain() = default;
SupplyChain::SupplyChain(SupplyChain&&) noexcept = default;
SupplyChain& SupplyChain::operator=(SupplyChain&&) noexcept = default;

void SupplyChain::build(const Model& m) {
  impl_ = std::make_unique<Impl>();
  Impl& I = *impl_;
  const FirmStore& fs = m.firms;
  const size_t n = fs.size();
  I.prepare_coefficients(m);
  for (size_t f = 0; f < n; ++f)
    if (fs.alive[f]) I.vertex_of(m, f);
  const Tables t = make_tables(m);
  // Draws are keyed by (customer id, sector): the chunks only share the work. Links are
  // added chunk after chunk, i.e. in customer index order, whatever the chunk size.
  std::vector<std::vector<std::uint32_t>> parts(m.chunk_count(n));
  m.for_chunks(n, [&](size_t chunk, size_t b, size_t e) {
    size_t count = 0;
    for (size_t c = b; c < e; ++c)
      if (fs.alive[c]) count += I.slots_of(fs, c);
    auto& slots = parts[chunk];
    slots.resize(count);
    for (size_t c = b, at = 0; c < e; ++c)
      if (fs.alive[c]) {
        I.pick_for_customer(m, t, c, &slots[at]);
        at += I.slots_of(fs, c);
      }
  });
  // Room for every vertex's links first: no vector regrowth, and the edge records are
  // laid out in creation order, which keeps later passes over them cache-friendly.
  std::vector<std::uint32_t> out_degree(I.vertex_id.size(), 0), in_degree(I.vertex_id.size(), 0);
  for (size_t chunk = 0, c = 0; chunk < parts.size(); ++chunk) {
    const size_t end = std::min(n, (chunk + 1) * m.config().chunk_size);
    for (size_t at = 0; c < end; ++c) {
      if (!fs.alive[c]) continue;
      const size_t vc = I.id_vertex[fs.id[c]];
      for (size_t i = 0; i < I.slots_of(fs, c); ++i, ++at) {
        const std::uint32_t s = parts[chunk][at];
        if (s == k_none) continue;
        ++out_degree[I.id_vertex[fs.id[s]]];
        ++in_degree[vc];
      }
    }
  }
  for (size_t v = 0; v < I.vertex_id.size(); ++v)
    reserve_links(I.g, v, out_degree[v], in_degree[v]);
  for (size_t chunk = 0, c = 0; chunk < parts.size(); ++chunk) {
    const size_t end = std::min(n, (chunk + 1) * m.config().chunk_size);
    for (size_t at = 0; c < end; ++c)
      if (fs.alive[c]) {
        I.add_customer_links(m, c, &parts[chunk][at]);
        at += I.slots_of(fs, c);
      }
    parts[chunk] = {};
  }
  I.rebuild_flow(m);
}

void SupplyChain::update(const Model& m, const std::vector<std::uint32_t>& exited,
                         const std::vector<std::uint32_t>& entrants, std::int32_t now) {
  Impl& I = *impl_;
  Graph& g = I.g;
  const FirmStore& fs = m.firms;
  // Every alive firm of the store gets a vertex (entrants, in index order); then indices.
  for (size_t f = 0; f < fs.size(); ++f)
    if (fs.alive[f]) I.vertex_of(m, f);
  I.refresh_indices(m);
  const Tables t = make_tables(m);  // alive firms only: includes entrants, not the exited
  FlowPatch patch(fs.size());
  auto mark = [&](std::vector<std::uint8_t>& flags, Vertex v) {
    if (I.vertex_index[v] != k_none) flags[I.vertex_index[v]] = 1;
  };
  std::uint32_t seq = 0;
  // Records the links of customer vc in sector k (all of them if k is k_any): new ones
  // (their suppliers not in `old`) as added, the others as reweighted.
  constexpr int k_any = -1;
  auto record = [&](Vertex vc, int k, const Few& old) {
    const std::uint32_t c = I.vertex_index[vc];
    for (auto [e, end] = boost::in_edges(vc, g); e != end; ++e) {
      if (k != k_any && g[*e].input_sector != k) continue;
      const std::uint32_t s = I.vertex_index[boost::source(*e, g)];
      const double factor = I.factor(fs, c, g[*e]);
      patch.supplier[s] = 1;
      if (old.has(s)) {
        patch.reweighted.push_back({s, c, factor});
        patch.regrouped[c] = 1;
      } else {
        patch.added.push_back({s, seq++, c, factor});
      }
    }
    patch.customer[c] = 1;
  };

  // Exits: remember which (customer, sector) lost a supplier, then drop all links.
  std::vector<std::pair<std::uint32_t, std::uint8_t>> lost;  // (customer id, sector)
  std::vector<std::uint8_t> exiting(I.vertex_id.size(), 0);
  for (std::uint32_t id : exited)
    if (id < I.id_vertex.size() && I.id_vertex[id] != k_none) exiting[I.id_vertex[id]] = 1;
  for (std::uint32_t id : exited) {
    if (id >= I.id_vertex.size() || I.id_vertex[id] == k_none) continue;
    const Vertex v = I.id_vertex[id];
    mark(patch.gone, v);
    mark(patch.supplier, v);
    mark(patch.customer, v);
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
      const Vertex c = boost::target(*e, g);
      mark(patch.customer, c);
      if (!exiting[c]) lost.emplace_back(I.vertex_id[c], g[*e].input_sector);
    }
    for (auto [e, end] = boost::in_edges(v, g); e != end; ++e)
      mark(patch.supplier, boost::source(*e, g));
    boost::clear_vertex(v, g);
  }
  // Replacements, customer by customer in id order: one new supplier per lost one.
  std::sort(lost.begin(), lost.end());
  for (size_t i = 0; i < lost.size();) {
    size_t j = i;
    while (j < lost.size() && lost[j] == lost[i]) ++j;
    const auto [cid, k] = lost[i];
    const size_t count = j - i;
    i = j;
    const Vertex vc = I.id_vertex[cid];
    const std::uint32_t c = I.vertex_index[vc];
    if (c == k_none || !fs.alive[c]) continue;
    Few taken;  // the customer and its remaining suppliers of k
    taken.push(c);
    for (auto [e, end] = boost::in_edges(vc, g); e != end; ++e)
      if (g[*e].input_sector == k) taken.push(I.vertex_index[boost::source(*e, g)]);
    const size_t room =
        k_suppliers_per_sector + 1 - std::min<size_t>(taken.n, k_suppliers_per_sector + 1);
    Rng rng = m.rng(Stream::supply_chain, draw_key(cid, k, true), now);
    Few picked;
    draw_suppliers(fs, t, k, fs.zone[c], std::min(count, room), taken, rng, picked);
    for (size_t p = 0; p < picked.n; ++p)
      boost::add_edge(I.vertex_of(m, picked.v[p]), vc, EdgeProp{0.0, k}, g);
    I.reweight(m, vc, k);
    record(vc, k, taken);
  }
  // Entrants link to suppliers as at the start.
  std::vector<std::uint32_t> slots;
  for (std::uint32_t id : entrants) {
    const std::uint32_t c = m.firm_index(id);
    if (c == k_none || c >= fs.size() || fs.id[c] != id || !fs.alive[c]) continue;
    const Vertex vc = I.id_vertex[id];
    if (boost::in_degree(vc, g) > 0) continue;  // already linked
    slots.resize(I.slots_of(fs, c));
    I.pick_for_customer(m, t, c, slots.data());
    I.add_customer_links(m, c, slots.data());
    record(vc, k_any, Few{});
  }
  // A firm that left the store must have been passed as exited.
  for (size_t v = 0; v < I.vertex_id.size(); ++v)
    if (I.vertex_index[v] == k_none && (boost::out_degree(v, g) || boost::in_degree(v, g)))
      throw InvariantError(fmt::format(
          "supply chain: firm {} left the store but still has links (pass it to update as exited)",
          I.vertex_id[v]));
  I.update_flow(m, patch);
}

void SupplyChain::distribute_orders(const Model& m, std::vector<double>& order_demand,
                                    double& unplaced) const {
  const Impl& I = *impl_;
  const FirmStore& fs = m.firms;
  const size_t n = fs.size();
  // Entrants not yet passed to update() may follow the known firms (the model rewires once
  // a quarter): they have no links yet, so they buy outside the region.
  const size_t known = I.ids.size();
  if (known > n || !std::equal(I.ids.begin(), I.ids.end(), fs.id.begin()))
    throw InvariantError(
        "supply chain: the firm store changed since the last build/update/reindex (call update "
        "after entries and exits, reindex after compaction)");
  order_demand.assign(n, 0.0);
  // Each supplier gathers its customers' orders in link creation order: the same sums for
  // any number of threads and any chunk size.
  m.for_chunks(known, [&](size_t, size_t b, size_t e) {
    for (size_t f = b; f < e; ++f) {
      double sum = 0.0;
      for (std::uint32_t j = I.out_begin[f]; j < I.out_begin[f + 1]; ++j) {
        const std::uint32_t c = I.out_customer[j];
        if (fs.alive[c]) sum += fs.regional_inputs[c] * I.out_factor[j];
      }
      order_demand[f] = sum;
    }
  });
  // Purchases without a regional supplier, summed in firm index order. Orders addressed to
  // a firm that exited but has not been passed to update() yet are bought outside too.
  double rest = 0.0;
  for (size_t f = 0; f < n; ++f) {
    if (f >= known) {
      rest += fs.regional_inputs[f];
    } else if (fs.alive[f]) {
      rest += fs.regional_inputs[f] * I.unplaced_share[f];
    } else if (order_demand[f] != 0.0) {
      rest += order_demand[f];
      order_demand[f] = 0.0;
    }
  }
  unplaced += rest;
}

void SupplyChain::reindex(const Model& m) {
  Impl& I = *impl_;
  I.refresh_indices(m);
  for (size_t v = 0; v < I.vertex_id.size(); ++v)
    if (I.vertex_index[v] == k_none && (boost::out_degree(v, I.g) || boost::in_degree(v, I.g)))
      throw InvariantError(fmt::format(
          "supply chain: firm {} left the store but still has links (pass it to update as exited "
          "before compaction)",
          I.vertex_id[v]));
  I.rebuild_flow(m);
}

std::size_t SupplyChain::edges() const {
  return boost::num_edges(impl_->g);
}

std::size_t SupplyChain::cross_links() const {
  return impl_->cross;
}

std::vector<SupplyChain::Link> SupplyChain::links() const {
  const Graph& g = impl_->g;
  std::vector<Link> out;
  out.reserve(boost::num_edges(g));
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    out.push_back({impl_->vertex_id[boost::source(*e, g)], impl_->vertex_id[boost::target(*e, g)],
                   g[*e].weight, g[*e].input_sector});
  return out;
}

}  // namespace regio
