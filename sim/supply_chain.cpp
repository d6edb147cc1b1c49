// The supply-chain graph.
//
// Storage. Every firm the chain has seen is a node, numbered in the order first seen (firm
// index order at build, then new firms in index order); a firm keeps its node through the
// yearly compactions of the firm store. The links are kept in two flat structures over
// the nodes that update() patches in place:
//  - the customer side, the record of the links: every node owns a fixed block of slots,
//    one group of k_suppliers_per_sector slots per input sector it links to; a slot holds
//    a supplier (or none), the link weight and the link's position in the supplier's row;
//  - the supplier side, the order flow: every node owns a row of (customer, factor, slot)
//    entries in one shared pool, with some room to grow. A link is removed by moving the
//    row's last entry into its place (the slot of the moved entry learns its new
//    position) and added at the row's end; a full row moves to the end of the pool with
//    a quarter more room than it needs. Positions are offsets within the row, so moving a
//    row touches the row only.
// reindex() after a compaction of the store only maps nodes to the new firm indices
// (O(firms)); the chain lays its own arrays out afresh (closing the holes of moved rows,
// dropping the nodes of firms that left) every few years, keeping the order of every row.
// The monthly order flow is a gather over the pool: rows are kept tight (small room, holes
// closed) and each supplier's sum is one sequential pass (see distribute_orders for what
// bounds it).
// Why not a Boost adjacency_list, as before: it kept its edges in a std::list with every
// edge property in a heap node of its own, so that walking all links was pointer chasing
// (some 70 ms at 730,000 links), and the order flow, flattened from it, had to be copied
// whole (O(links)) after every change and rebuilt at every reindex. Here update() costs
// O(changed links + firms) and the monthly order flow reads contiguous rows.
// Boost.Graph stays the graph the class exposes: graph() builds a compressed sparse row
// graph from the rows on demand (contiguous, and the structure analyses want); links(),
// the tests and network statistics traverse that view. It is not the working store
// because it cannot be patched: rebuilding it at every quarterly update would cost
// O(links) again.
//
// Determinism. Random draws are keyed by the customer's id, the input sector and (for
// replacements) the month, never by thread or visiting order. Draws run in parallel, each
// writing only its own customer's slots; the row changes they imply are applied in a
// fixed order per supplier (exits in node order, replacements by customer id and sector,
// entrants in the order given), suppliers in parallel. So the rows, and with them
// the order in which each supplier sums its orders, are a function of the history alone.
#include "sim/supply_chain.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <bitset>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <numeric>
#include <tuple>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "sim/model.hpp"
#include "sim/parallel.hpp"
#include "sim/supply_chain_graph.hpp"

namespace regio {

namespace {

/// A customer links to regional suppliers only for input sectors with at least this share
/// of its intermediate inputs. The coefficient table is an estimate rounded to about 0.05;
/// smaller shares are within its rounding and would add links (memory, time) that carry
/// almost nothing. Purchases from such sectors are bought outside the region (`unplaced`).
constexpr double k_min_input_coefficient = 0.02;

/// Suppliers a customer picks per input sector (estimate: firms buy most of an input from
/// a handful of main suppliers). With 6-7 linked input sectors per customer in the default
/// table this gives about 20 links per firm (some 730,000 at full scale).
constexpr size_t k_suppliers_per_sector = 3;
constexpr size_t K = k_suppliers_per_sector;

/// Distance decay of supplier choice: weight exp(-km / scale) (estimate: within a region
/// about 25 km across, a supplier 10 km away is e^-1 as likely as an equal one next door).
constexpr double k_distance_scale_km = 10.0;

/// Rejected draws (a firm already taken) per (customer, sector) after which the remaining
/// suppliers are drawn from an explicit list of the candidates without the taken ones:
/// the same distribution, but bounded work when the customer or its current suppliers
/// hold nearly all of a sector's weight.
constexpr int k_max_misses = 16;

/// Links per block of suppliers in the parallel order flow: large enough to amortise the
/// scheduling, small enough that the blocks of a few very large suppliers balance.
constexpr size_t k_links_per_block = 16384;

/// Places of a row of `links` links when the pool is laid out (build, and yearly at
/// reindex). Over a year a supplier gains links from replacements and entrants about as
/// fast as it loses them to exits, a few per cent of its links for most firms: an eighth
/// plus 2 makes moving a row rare. Rows without links get no places (most are firms that
/// exited). The monthly order flow streams the pool, room included (the hardware fetches
/// whole cache lines ahead), so room is kept small: a pool with a third more places than
/// links costs the order flow about a third more time.
std::uint32_t row_room(std::uint32_t links) {
  return links == 0 ? 0 : links + links / 8 + 2;
}

/// Places of a row that outgrew its room and moves to the end of the pool: it is growing,
/// so it gets a quarter more room (until the next layout).
std::uint32_t moved_room(std::uint32_t links) {
  return links + links / 4 + 4;
}

/// Nodes per block of the order flow's first pass (a fixed number, so that its partial
/// sums do not depend on the number of threads).
constexpr size_t k_flow_block = 8192;

/// Firms per block when the sampling tables are sorted in parallel. (The tables keep index
/// order within each cell whatever the block size; small enough for some twenty blocks,
/// which two threads share evenly.)
constexpr size_t k_table_block = 2048;

constexpr size_t k_unknown = std::numeric_limits<size_t>::max();

/// Key of the random draws: the customer id, the input sector and whether it is the first
/// choice (build, entrants) or a replacement after an exit (then the month is the step).
std::uint64_t draw_key(std::uint32_t customer_id, size_t sector, bool rewire) {
  return std::uint64_t{customer_id} | (std::uint64_t{sector} << 32) | (std::uint64_t{rewire} << 40);
}

double supplier_size(std::int32_t headcount) {
  return static_cast<double>(std::max<std::int32_t>(1, headcount));
}

/// Knowledge institutions are funded from outside the region for their full staff and do
/// not sell inputs to firms: they are customers, never suppliers.
bool is_candidate(const FirmStore& fs, size_t f) {
  return fs.alive[f] && !(fs.kind[f] & k_institution);
}

/// One slot of a zone's alias table: keep node `keep` with probability prob, else take
/// `other`. Both are stored with the probability, so that a draw reads one 16-byte record
/// (one cache line) instead of three scattered arrays.
struct AliasSlot {
  double prob = 1.0;
  std::uint32_t keep = 0, other = 0;
};

/// Candidate suppliers of one sector: their nodes grouped by zone (firm index order within
/// a zone) with an alias table per zone block to draw one by size in O(1), and per customer
/// zone the cumulative zone weights (zone size x distance decay). Nodes rather than firm
/// indices, so that drawn suppliers go into the slots as they are.
struct SectorTable {
  std::vector<std::uint32_t> node;        ///< the candidates
  std::vector<double> size;               ///< their supplier_size
  std::vector<AliasSlot> slot;            ///< alias table, zone block by zone block
  std::vector<std::uint32_t> zone_begin;  ///< zones + 1 offsets into node and slot
  std::vector<double> zone_total;         ///< size of the zone's candidates
  std::vector<double> zone_cum;           ///< [customer zone * zones + z]
};

struct Tables {
  size_t zones = 0;
  std::vector<double> decay;  ///< [customer zone * zones + supplier zone]
  std::vector<SectorTable> sector;
  std::vector<double> size;               ///< per node: supplier_size (firms in the store)
  std::vector<std::uint8_t> cand_sector;  ///< per node: its sector if a candidate, else 0xFF
  std::vector<std::uint8_t> sme;          ///< per firm index: is_sme
  std::vector<std::uint32_t> fill;        ///< scratch: per block of firms and (sector, zone)
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

/// Walker's alias table (Vose's construction) for the nodes node[0..n) with weights
/// w[0..n) summing to total, into slot[0..n). Deterministic.
void make_alias(const std::uint32_t* node, const double* w, size_t n, double total,
                AliasSlot* slot) {
  thread_local std::vector<std::uint32_t> small, large;  // scratch, reused
  thread_local std::vector<double> scaled;
  small.clear();
  large.clear();
  scaled.resize(n);
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = w[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    slot[s] = {scaled[s], node[s], node[l]};
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (std::uint32_t i : large) slot[i] = {1.0, node[i], node[i]};
  for (std::uint32_t i : small) slot[i] = {1.0, node[i], node[i]};  // rounding leftovers
}

/// A node from an alias table of n slots and one uniform draw u.
std::uint32_t alias_draw(const AliasSlot* slot, size_t n, double u) {
  const double x = u * static_cast<double>(n);
  const size_t i = std::min(static_cast<size_t>(x), n - 1);
  const AliasSlot& a = slot[i];
  return x - static_cast<double>(i) < a.prob ? a.keep : a.other;
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

/// The sampling tables of the alive firms (entrants included, exited firms not), into t,
/// reusing its memory; firm_node maps firm indices to nodes (nodes >= firms in the store).
/// The alias tables of the (sector, zone) cells are built in parallel (each from its own
/// firms only: the same tables for any number of threads).
/// `headcount`: the firms' headcounts if not those in the store (SupplyChain::build).
void make_tables(const Model& m, const std::vector<std::uint32_t>& firm_node, size_t nodes,
                 Tables& t, const std::vector<std::int32_t>* headcount = nullptr) {
  const FirmStore& fs = m.firms;
  const size_t ns = m.scenario().sectors.size();
  t.zones = static_cast<size_t>(m.commuting.zones());
  const size_t nz = t.zones;
  t.sector.resize(ns);
  for (auto& s : t.sector) {
    s.zone_begin.assign(nz + 1, 0);
    s.zone_total.assign(nz, 0.0);
  }
  // Counting sort by (sector, zone), keeping index order within each zone: counts per
  // block of firms in parallel, then each block fills its places (fixed blocks, so the
  // same tables for any number of threads).
  const size_t n = fs.size(), cells = ns * nz, blocks = (n + k_table_block - 1) / k_table_block;
  t.fill.assign(blocks * cells, 0);
  parallel_each(blocks, 1, [&](size_t b) {
    std::uint32_t* count = &t.fill[b * cells];
    for (size_t f = b * k_table_block; f < std::min(n, (b + 1) * k_table_block); ++f) {
      if (!is_candidate(fs, f)) continue;
      if (fs.zone[f] >= nz)
        throw InvariantError(fmt::format(
            "supply chain: firm {} is in zone {} but the commuting matrix has {} zones (build "
            "it first)",
            fs.id[f], fs.zone[f], nz));
      ++count[fs.sector[f] * nz + fs.zone[f]];
    }
  });
  for (size_t k = 0; k < ns; ++k) {  // block counts -> each block's first place
    SectorTable& s = t.sector[k];
    std::uint32_t at = 0;
    for (size_t z = 0; z < nz; ++z) {
      s.zone_begin[z] = at;
      for (size_t b = 0; b < blocks; ++b) {
        const std::uint32_t c = t.fill[b * cells + k * nz + z];
        t.fill[b * cells + k * nz + z] = at;
        at += c;
      }
    }
    s.zone_begin[nz] = at;
    s.node.resize(at);
    s.size.resize(at);
    s.slot.resize(at);
  }
  t.size.resize(nodes);
  t.cand_sector.assign(nodes, 0xFF);
  t.sme.resize(n);
  // The same pass reads every firm's size, once (the weights of links and the firms'
  // classes for the cross-over count come from it too).
  parallel_each(blocks, 1, [&](size_t b) {
    std::uint32_t* at = &t.fill[b * cells];
    for (size_t f = b * k_table_block; f < std::min(n, (b + 1) * k_table_block); ++f) {
      const std::uint32_t v = firm_node[f];
      const std::int32_t staff = headcount != nullptr ? (*headcount)[f] : fs.headcount(f);
      t.size[v] = supplier_size(staff);
      t.sme[f] = FirmStore::is_sme(fs.kind[f], staff);
      if (!is_candidate(fs, f)) continue;
      t.cand_sector[v] = fs.sector[f];
      SectorTable& s = t.sector[fs.sector[f]];
      const std::uint32_t i = at[fs.sector[f] * nz + fs.zone[f]]++;
      s.node[i] = v;
      s.size[i] = t.size[v];
    }
  });
  t.decay.resize(nz * nz);
  for (size_t o = 0; o < nz; ++o)
    for (size_t d = 0; d < nz; ++d)
      t.decay[o * nz + d] =
          std::exp(-m.commuting.km(static_cast<int>(o), static_cast<int>(d)) / k_distance_scale_km);
  // An alias table per (sector, zone) cell, in parallel: cells rather than sectors, as the
  // sectors differ much in size.
  parallel_each(ns * nz, 1, [&](size_t cell) {
    SectorTable& s = t.sector[cell / nz];
    const size_t z = cell % nz, b = s.zone_begin[z], n = s.zone_begin[z + 1] - b;
    if (n == 0) return;
    s.zone_total[z] = std::accumulate(&s.size[b], &s.size[b] + n, 0.0);
    make_alias(&s.node[b], &s.size[b], n, s.zone_total[z], &s.slot[b]);
  });
  for (SectorTable& s : t.sector) {
    s.zone_cum.resize(nz * nz);
    for (size_t o = 0; o < nz; ++o) {
      double run = 0.0;
      for (size_t d = 0; d < nz; ++d) {
        run += s.zone_total[d] * t.decay[o * nz + d];
        s.zone_cum[o * nz + d] = run;
      }
    }
  }
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

/// Draws up to `want` suppliers (nodes) of sector k for a customer in zone zc, distinct from
/// each other and from `taken` (the customer and its current suppliers of k): zone by size x
/// distance decay, then firm by size within the zone (alias table), i.e. firm f with probability
/// proportional to size(f) x exp(-km(zc, zone f) / scale). If no more candidates remain
/// than wanted, all are taken (in table order).
void draw_suppliers(const Tables& t, size_t k, size_t zc, size_t want, const Few& taken, Rng& rng,
                    Few& out) {
  const SectorTable& s = t.sector[k];
  size_t blocked = 0;  // taken firms among the candidates (only counted where it can matter)
  if (s.node.size() <= want + taken.n)
    for (size_t i = 0; i < taken.n; ++i)
      if (t.cand_sector[taken.v[i]] == k) ++blocked;
  const size_t available = s.node.size() - std::min(blocked, s.node.size());
  if (available <= want) {
    for (std::uint32_t f : s.node)
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
    const std::uint32_t f = alias_draw(&s.slot[b], e - b, u);
    if (taken.has(f) || out.has(f)) {
      ++misses;
      continue;
    }
    out.push(f);
  }
  if (out.n - start == want) return;
  // Explicit weights with the taken firms removed; each pick is removed in turn.
  std::vector<double> w(s.node.size(), 0.0);
  for (size_t z = 0; z < nz; ++z)
    for (size_t i = s.zone_begin[z]; i < s.zone_begin[z + 1]; ++i)
      if (!taken.has(s.node[i]) && !out.has(s.node[i])) w[i] = s.size[i] * t.decay[zc * nz + z];
  while (out.n - start < want) {
    const double sum = std::accumulate(w.begin(), w.end(), 0.0);
    if (!(sum > 0.0)) break;
    const size_t i = locate_linear(w, rng.uniform() * sum);
    out.push(s.node[i]);
    w[i] = 0.0;
  }
}

/// Allocator of the big arrays (slots and pool: tens of megabytes). On the virtual machines
/// this runs on, the first touch of a fresh 4 KB page costs some 10 us, i.e. about 3 ms per
/// megabyte, more than the work done on it. So blocks of 2 MB and more are 2 MB-aligned and
/// marked for transparent huge pages (one fault per 2 MB; a no-op where they are off), and
/// elements are default-initialised: resize() does not clear memory that is written next.
template <class T>
struct BigAllocator {
  using value_type = T;
  static constexpr size_t k_huge = size_t{2} << 20;
  BigAllocator() = default;
  template <class U>
  explicit BigAllocator(const BigAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < k_huge) return std::allocator<T>{}.allocate(n);
    const size_t rounded = (bytes + k_huge - 1) / k_huge * k_huge;
    void* p = std::aligned_alloc(k_huge, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < k_huge)
      std::allocator<T>{}.deallocate(p, n);
    else
      std::free(p);
  }
  template <class U>
  void construct(U* p) noexcept {
    static_assert(std::is_trivially_default_constructible_v<U>);
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  friend bool operator==(const BigAllocator&, const BigAllocator&) {
    return true;
  }
  friend bool operator!=(const BigAllocator&, const BigAllocator&) {
    return false;
  }
};
template <class T>
using Big = std::vector<T, BigAllocator<T>>;

/// Rows of len[s] links each, laid out in node order with room to grow: their begins and
/// places into `begin` and `cap`; returns the pool size.
size_t lay_out_rows(const std::vector<std::uint32_t>& len, std::vector<std::uint32_t>& begin,
                    std::vector<std::uint32_t>& cap) {
  const size_t n = len.size();
  begin.resize(n);
  cap.resize(n);
  size_t at = 0;
  for (size_t s = 0; s < n; ++s) {
    begin[s] = static_cast<std::uint32_t>(at);
    cap[s] = row_room(len[s]);
    at += cap[s];
  }
  if (at > std::numeric_limits<std::uint32_t>::max() / 2)
    throw InvariantError("supply chain: more than 2^31 link places");
  return at;
}

/// v.resize(n) for an array that grows by appending (slots of new firms, rows moved to the
/// end of the pool): when it must grow, room for twice as much, so that it is seldom copied.
/// Reserved memory that is never touched costs nothing (BigAllocator).
template <class V>
void grow_to(V& v, size_t n) {
  if (v.capacity() < n) v.reserve(2 * n);
  v.resize(n);
}

/// v.resize(n) for an array about to be overwritten whole (a fresh layout): its old content
/// is not copied when it must grow, and it gets room to grow to twice the size.
template <class V>
void fresh_to(V& v, size_t n) {
  if (v.capacity() < n) {
    v.clear();
    v.reserve(2 * n);
  }
  v.resize(n);
}

}  // namespace

struct SupplyChain::Impl {
  /// Input coefficients per customer sector, rescaled so that each row sums to 1 (the
  /// scenario loader accepts rows within a rounding tolerance; money must be conserved).
  std::vector<std::vector<double>> coef;
  std::vector<std::vector<std::uint8_t>> linked;  ///< [customer sector]: sectors to link
  std::vector<std::int16_t> group_of;  ///< [customer sector * sectors + k]: k's group, or -1

  // The store at the last build/update/reindex, by firm index.
  std::vector<std::uint32_t> ids;        ///< m.firms.id (staleness check)
  std::vector<std::uint32_t> firm_node;  ///< firm index -> node

  // Nodes: the firms in the order they were first seen (firm index order at build, then
  // new firms in index order as they appear). A firm keeps its node while it lives, through
  // compactions of the store; the nodes of firms that left the store are dropped when these
  // arrays are compacted (compact_nodes).
  std::vector<std::uint32_t> node_id;    ///< firm id
  std::vector<std::uint32_t> node_firm;  ///< firm index, or k_none once the firm left the store
  std::vector<std::uint8_t> node_sector;
  size_t departed = 0;  ///< nodes whose firm left the store

  // Customer side: per node a block of slots, K per linked input sector.
  std::vector<std::uint32_t> slot_begin;  ///< per node + 1
  Big<std::uint32_t> slot_supplier;       ///< supplier node, or k_none
  Big<double> slot_weight;                ///< link weight (size share in the group)
  /// Position of the link in its supplier's row (an offset: a row that moves or is laid
  /// out afresh keeps it, so moving a row touches the row only).
  Big<std::uint32_t> slot_pos;

  // Supplier side: per node a row of the pool, [row_begin, row_begin + row_len) in use of
  // row_cap places.
  std::vector<std::uint32_t> row_begin, row_len, row_cap;
  Big<std::uint32_t> pool_customer;  ///< customer node
  Big<double> pool_factor;           ///< customer's input coefficient of the sector x weight
  Big<std::uint32_t> pool_slot;      ///< the customer's slot of the link
  size_t pool_laid_out = 0;          ///< pool size at the last compact layout
  size_t links = 0;

  std::vector<double> unplaced_share;      ///< per node: inputs without a regional supplier
  std::vector<std::uint32_t> block_begin;  ///< node blocks of the parallel order flow

  // Cross-over links, counted on request from the firms' classes at the last change.
  std::vector<std::uint8_t> snap_cluster, snap_sme;  ///< per firm index
  mutable std::atomic<size_t> cross{k_unknown};

  mutable std::mutex view_mutex;
  mutable std::shared_ptr<const SupplyChainGraph> view;

  Tables tables;  ///< reused by update

  /// The arrays of the previous layout, reused by the next compaction.
  struct Spare {
    std::vector<std::uint32_t> slot_begin, row_begin, row_cap;
    Big<std::uint32_t> slot_supplier, slot_pos, pool_customer, pool_slot;
    Big<double> slot_weight, pool_factor;
  } spare;
  std::vector<std::uint32_t> bucket;  ///< per node + 1: scratch of by_supplier
  /// Node ids increase with the node number (nodes are numbered in the order firms are
  /// first seen, and the model gives new firms increasing ids): then the order of customer
  /// slots is the order of (customer id, input sector).
  bool ids_ascending = true;
  std::vector<std::uint64_t> lost_bits;  ///< per slot: lost its supplier (scratch of update)
  std::vector<std::uint8_t> node_mark;   ///< per node: scratch of update, zero in between

  void prepare_coefficients(const Model& m);
  size_t slots_of_sector(size_t sector) const { return linked[sector].size() * K; }
  std::uint8_t slot_sector(size_t node, size_t slot) const {
    return linked[node_sector[node]][(slot - slot_begin[node]) / K];
  }
  double factor(size_t customer, size_t slot) const {
    return coef[node_sector[customer]][slot_sector(customer, slot)] * slot_weight[slot];
  }
  bool has_suppliers(size_t v) const {
    for (size_t i = slot_begin[v]; i < slot_begin[v + 1]; ++i)
      if (slot_supplier[i] != k_none) return true;
    return false;
  }
  bool has_links(size_t v) const { return row_len[v] > 0 || has_suppliers(v); }
  bool same_store(const FirmStore& fs) const {
    return fs.size() >= ids.size() && std::equal(ids.begin(), ids.end(), fs.id.begin());
  }
  void pick_for_customer(const Model& m, const Tables& t, std::uint32_t v,
                         std::uint32_t* slots) const;
  void set_group_weights(const Tables& t, size_t first);
  /// A link to make: the customer's slot (supplier and weight set) and the customer.
  struct NewLink {
    std::uint32_t slot, customer, supplier;
    double factor;
  };
  /// A link to remove: its supplier and the customer's slot.
  struct OldLink {
    std::uint32_t supplier, slot;
  };
  static std::uint32_t supplier_of(const OldLink& l) { return l.supplier; }
  static std::uint32_t supplier_of(const NewLink& l) { return l.supplier; }
  void compact_pool();
  template <class T>
  std::vector<std::pair<size_t, size_t>> by_supplier(std::vector<T>& links);
  void pop_links(std::vector<OldLink>& links);
  void push_links(std::vector<NewLink>& links);
  void fill_unplaced(size_t node);
  void add_node(const FirmStore& fs, size_t f);
  void sync_store(const Model& m, const char* when);
  void compact_nodes();
  void finish(const Model& m, const Tables* t);
};

void SupplyChain::Impl::prepare_coefficients(const Model& m) {
  const auto& io = m.scenario().input_coefficients;
  const size_t ns = m.scenario().sectors.size();
  coef.assign(ns, std::vector<double>(ns, 0.0));
  linked.assign(ns, {});
  group_of.assign(ns * ns, -1);
  for (size_t c = 0; c < ns; ++c) {
    double sum = 0.0;
    for (size_t k = 0; k < ns; ++k) sum += io[c][k];
    for (size_t k = 0; k < ns; ++k) {
      coef[c][k] = sum > 0.0 ? io[c][k] / sum : 0.0;
      if (io[c][k] >= k_min_input_coefficient) {
        group_of[c * ns + k] = static_cast<std::int16_t>(linked[c].size());
        linked[c].push_back(static_cast<std::uint8_t>(k));
      }
    }
  }
}

/// Draws the suppliers (nodes) of customer node v for every input sector it links to, keyed
/// by (customer id, sector), into `slots` (K per sector; k_none where fewer exist).
void SupplyChain::Impl::pick_for_customer(const Model& m, const Tables& t, std::uint32_t v,
                                          std::uint32_t* slots) const {
  const FirmStore& fs = m.firms;
  const std::uint32_t c = node_firm[v];
  Few taken;
  taken.push(v);
  for (std::uint8_t k : linked[fs.sector[c]]) {
    Rng rng = m.rng(Stream::supply_chain, draw_key(fs.id[c], k, false), 0);
    Few picked;
    draw_suppliers(t, k, fs.zone[c], K, taken, rng, picked);
    for (size_t i = 0; i < K; ++i) *slots++ = i < picked.n ? picked.v[i] : k_none;
  }
}

/// Weights of a customer's suppliers in the group starting at slot `first`: their current
/// size shares (summed in slot order). The factors in the rows are the caller's.
void SupplyChain::Impl::set_group_weights(const Tables& t, size_t first) {
  double total = 0.0;
  for (size_t i = first; i < first + K; ++i)
    if (slot_supplier[i] != k_none) total += t.size[slot_supplier[i]];
  for (size_t i = first; i < first + K; ++i)
    if (slot_supplier[i] != k_none) slot_weight[i] = t.size[slot_supplier[i]] / total;
}

/// Sorts link slots by supplier, keeping their order within a supplier (a counting sort),
/// and returns the [begin, end) runs of one supplier each, in supplier order. Row changes
/// are applied supplier by supplier in parallel: a supplier's row and the slots of its
/// links are touched by its own run only, and within a run in the given order, so the rows
/// come out exactly as if the changes were made one after the other.
template <class T>
std::vector<std::pair<size_t, size_t>> SupplyChain::Impl::by_supplier(std::vector<T>& links) {
  std::vector<std::pair<size_t, size_t>> runs;
  if (links.empty()) return runs;
  bucket.assign(node_id.size() + 1, 0);
  for (const T& l : links) ++bucket[supplier_of(l) + 1];
  std::partial_sum(bucket.begin(), bucket.end(), bucket.begin());
  std::vector<T> sorted(links.size());
  for (const T& l : links) sorted[bucket[supplier_of(l)]++] = l;
  links.swap(sorted);
  auto supplier = [&](size_t q) { return supplier_of(links[q]); };
  for (size_t b = 0; b < links.size();) {
    size_t e = b + 1;
    while (e < links.size() && supplier(e) == supplier(b)) ++e;
    runs.emplace_back(b, e);
    b = e;
  }
  return runs;
}

/// Removes the given links from their suppliers' rows (each time the row's last entry takes
/// the removed one's place) and empties their slots.
void SupplyChain::Impl::pop_links(std::vector<OldLink>& old) {
  const auto runs = by_supplier(old);
  parallel_each(runs.size(), 16, [&](size_t r) {
    const std::uint32_t s = old[runs[r].first].supplier;
    for (size_t q = runs[r].first; q < runs[r].second; ++q) {
      const std::uint32_t slot = old[q].slot, off = slot_pos[slot], last_off = --row_len[s];
      if (off != last_off) {
        const std::uint32_t p = row_begin[s] + off, last = row_begin[s] + last_off;
        pool_customer[p] = pool_customer[last];
        pool_factor[p] = pool_factor[last];
        pool_slot[p] = pool_slot[last];
        slot_pos[pool_slot[p]] = off;
      }
      slot_supplier[slot] = k_none;
    }
  });
  links -= old.size();
}

/// Adds the given links (slots with supplier and weight set) at the end of their suppliers'
/// rows, in the given order per supplier. A row without room moves to the end of the pool
/// (places given out in supplier order); its old places stay unused until the next layout.
void SupplyChain::Impl::push_links(std::vector<NewLink>& made) {
  const auto runs = by_supplier(made);
  std::vector<std::uint32_t> moved_to(runs.size(), k_none);
  size_t end = pool_customer.size();
  for (size_t r = 0; r < runs.size(); ++r) {
    const std::uint32_t s = made[runs[r].first].supplier;
    const size_t need = row_len[s] + (runs[r].second - runs[r].first);
    if (need <= row_cap[s]) continue;
    if (need > std::numeric_limits<std::uint32_t>::max() / 4)
      throw InvariantError("supply chain: a supplier with too many customers");
    moved_to[r] = static_cast<std::uint32_t>(end);
    end += moved_room(static_cast<std::uint32_t>(need));
  }
  if (end > std::numeric_limits<std::uint32_t>::max())
    throw InvariantError("supply chain: more than 2^32 link places");
  grow_to(pool_customer, end);
  grow_to(pool_factor, end);
  grow_to(pool_slot, end);
  parallel_each(runs.size(), 16, [&](size_t r) {
    const std::uint32_t s = made[runs[r].first].supplier;
    if (moved_to[r] != k_none) {
      const std::uint32_t from = row_begin[s], to = moved_to[r], n = row_len[s];
      std::copy_n(&pool_customer[from], n, &pool_customer[to]);
      std::copy_n(&pool_factor[from], n, &pool_factor[to]);
      std::copy_n(&pool_slot[from], n, &pool_slot[to]);
      row_begin[s] = to;
      row_cap[s] =
          moved_room(row_len[s] + static_cast<std::uint32_t>(runs[r].second - runs[r].first));
    }
    for (size_t q = runs[r].first; q < runs[r].second; ++q) {
      const NewLink& l = made[q];
      const std::uint32_t off = row_len[s]++, p = row_begin[s] + off;
      pool_customer[p] = l.customer;
      pool_factor[p] = l.factor;
      pool_slot[p] = l.slot;
      slot_pos[l.slot] = off;
    }
  });
  links += made.size();
}

/// Lays the pool out afresh: rows in node order without the holes that moved rows left,
/// each with new room and its entries in the same order (so the order flow gives
/// bit-identical results before and after; the slots' offsets stay valid). Writes into the
/// spare pool and swaps it in, reusing the memory of the previous layout.
void SupplyChain::Impl::compact_pool() {
  Spare& x = spare;
  const size_t nodes = node_id.size();
  const size_t pool = lay_out_rows(row_len, x.row_begin, x.row_cap);
  fresh_to(x.pool_customer, pool);
  fresh_to(x.pool_factor, pool);
  fresh_to(x.pool_slot, pool);
  parallel_each(nodes, 1024, [&](size_t s) {
    std::copy_n(&pool_customer[row_begin[s]], row_len[s], &x.pool_customer[x.row_begin[s]]);
    std::copy_n(&pool_factor[row_begin[s]], row_len[s], &x.pool_factor[x.row_begin[s]]);
    std::copy_n(&pool_slot[row_begin[s]], row_len[s], &x.pool_slot[x.row_begin[s]]);
  });
  row_begin.swap(x.row_begin);
  row_cap.swap(x.row_cap);
  pool_customer.swap(x.pool_customer);
  pool_factor.swap(x.pool_factor);
  pool_slot.swap(x.pool_slot);
  pool_laid_out = pool;
}

/// Share of node c's inputs bought outside the region: input sectors where it has no
/// supplier (including those it does not link to).
void SupplyChain::Impl::fill_unplaced(size_t c) {
  const auto& row = coef[node_sector[c]];
  const auto& groups = linked[node_sector[c]];
  std::bitset<256> supplied;                                         // sectors are 8-bit
  const std::uint32_t* slot = slot_supplier.data() + slot_begin[c];  // (may have no slots)
  for (size_t g = 0; g < groups.size(); ++g, slot += K)
    for (size_t i = 0; i < K; ++i)
      if (slot[i] != k_none) supplied.set(groups[g]);
  double share = 0.0;
  for (size_t k = 0; k < row.size(); ++k)
    if (row[k] > 0.0 && !supplied[k]) share += row[k];
  unplaced_share[c] = share;
}

/// A node for firm index f: empty slots (the caller sizes the slot arrays) and an empty row
/// without room (its first link moves it to the end of the pool).
void SupplyChain::Impl::add_node(const FirmStore& fs, size_t f) {
  if (node_id.size() >= k_none) throw InvariantError("supply chain: too many firms");
  if (!node_id.empty() && fs.id[f] <= node_id.back()) ids_ascending = false;
  firm_node[f] = static_cast<std::uint32_t>(node_id.size());
  node_id.push_back(fs.id[f]);
  node_firm.push_back(static_cast<std::uint32_t>(f));
  node_sector.push_back(fs.sector[f]);
  slot_begin.push_back(slot_begin.back() +
                       static_cast<std::uint32_t>(slots_of_sector(fs.sector[f])));
  row_begin.push_back(0);
  row_len.push_back(0);
  row_cap.push_back(0);
}

/// Brings the firm <-> node maps up to the current store: firms not seen before get nodes
/// (in index order); after a compaction of the store every node finds its firm's new index
/// by id, and a node whose firm left the store must have no links (else throws). O(firms +
/// nodes): no link is touched.
void SupplyChain::Impl::sync_store(const Model& m, const char* when) {
  const FirmStore& fs = m.firms;
  const size_t n = fs.size(), old_nodes = node_id.size();
  if (same_store(fs)) {
    firm_node.resize(n, k_none);
    for (size_t f = ids.size(); f < n; ++f) add_node(fs, f);
  } else {
    firm_node.assign(n, k_none);
    for (size_t v = 0; v < old_nodes; ++v) {
      if (node_firm[v] == k_none) continue;
      const std::uint32_t f = m.firm_index(node_id[v]);
      if (f != k_none && f < n && fs.id[f] == node_id[v] && firm_node[f] == k_none) {
        if (fs.sector[f] != node_sector[v])
          throw InvariantError(fmt::format("supply chain: firm {} changed its sector", fs.id[f]));
        node_firm[v] = f;
        firm_node[f] = static_cast<std::uint32_t>(v);
        continue;
      }
      if (has_links(v))
        throw InvariantError(fmt::format(
            "supply chain: firm {} left the store but still has links (pass it to update as "
            "exited{})",
            node_id[v], when));
      node_firm[v] = k_none;
      row_cap[v] = 0;
      ++departed;
    }
    for (size_t f = 0; f < n; ++f)
      if (firm_node[f] == k_none) add_node(fs, f);
  }
  ids.assign(fs.id.begin(), fs.id.end());
  const size_t old_slots = slot_supplier.size(), slots = slot_begin.back();
  grow_to(slot_supplier, slots);
  grow_to(slot_weight, slots);
  grow_to(slot_pos, slots);
  std::fill(slot_supplier.begin() + static_cast<std::ptrdiff_t>(old_slots), slot_supplier.end(),
            k_none);
  unplaced_share.resize(node_id.size());
  for (size_t v = old_nodes; v < node_id.size(); ++v) fill_unplaced(v);
}

/// Drops the nodes of firms that left the store and lays slots and rows out afresh, rows
/// without holes and with new room, each keeping the order of its entries (so the order
/// flow gives bit-identical results before and after). Writes into the spare arrays and
/// swaps them in, reusing the memory of the previous layout.
void SupplyChain::Impl::compact_nodes() {
  const size_t old_nodes = node_id.size();
  // Per old node: its new number and how far its slots move (an unsigned difference,
  // wrapping), in one record so that each scattered read below is one load.
  struct Move {
    std::uint32_t node, slot_shift;
  };
  std::vector<Move> move(old_nodes);
  std::vector<std::uint32_t> old_of_new;
  old_of_new.reserve(old_nodes - departed);
  for (size_t v = 0; v < old_nodes; ++v) {
    move[v].node = node_firm[v] == k_none ? k_none : static_cast<std::uint32_t>(old_of_new.size());
    if (node_firm[v] != k_none) old_of_new.push_back(static_cast<std::uint32_t>(v));
  }
  const size_t n = old_of_new.size();
  Spare& x = spare;
  x.slot_begin.resize(n + 1);
  x.slot_begin[0] = 0;
  std::vector<std::uint32_t> len(n);
  for (size_t f = 0; f < n; ++f) {
    const std::uint32_t o = old_of_new[f];
    x.slot_begin[f + 1] = x.slot_begin[f] + (slot_begin[o + 1] - slot_begin[o]);
    len[f] = row_len[o];
  }
  const size_t pool = lay_out_rows(len, x.row_begin, x.row_cap);
  for (size_t f = 0; f < n; ++f) {
    const std::uint32_t o = old_of_new[f];
    move[o].slot_shift = x.slot_begin[f] - slot_begin[o];
  }
  fresh_to(x.slot_supplier, x.slot_begin[n]);
  fresh_to(x.slot_weight, x.slot_begin[n]);
  fresh_to(x.slot_pos, x.slot_begin[n]);
  fresh_to(x.pool_customer, pool);
  fresh_to(x.pool_factor, pool);
  fresh_to(x.pool_slot, pool);
  // One pass per node over its slots and its row, both read and written in sequence.
  parallel_each(n, 1024, [&](size_t f) {
    const std::uint32_t o = old_of_new[f];
    for (std::uint32_t from = slot_begin[o], to = x.slot_begin[f]; from < slot_begin[o + 1];
         ++from, ++to) {
      const std::uint32_t s = slot_supplier[from];
      if (s == k_none) {
        x.slot_supplier[to] = k_none;
        continue;
      }
      x.slot_supplier[to] = move[s].node;
      x.slot_weight[to] = slot_weight[from];
      x.slot_pos[to] = slot_pos[from];
    }
    for (std::uint32_t j = 0; j < len[f]; ++j) {
      const std::uint32_t from = row_begin[o] + j, to = x.row_begin[f] + j;
      const Move& c = move[pool_customer[from]];
      x.pool_customer[to] = c.node;
      x.pool_factor[to] = pool_factor[from];
      x.pool_slot[to] = pool_slot[from] + c.slot_shift;
    }
  });
  slot_begin.swap(x.slot_begin);
  slot_supplier.swap(x.slot_supplier);
  slot_weight.swap(x.slot_weight);
  slot_pos.swap(x.slot_pos);
  row_begin.swap(x.row_begin);
  row_cap.swap(x.row_cap);
  pool_customer.swap(x.pool_customer);
  pool_factor.swap(x.pool_factor);
  pool_slot.swap(x.pool_slot);
  row_len = std::move(len);
  auto keep = [&](auto& v) {
    for (size_t f = 0; f < n; ++f) v[f] = v[old_of_new[f]];
    v.resize(n);
  };
  keep(node_id);
  keep(node_firm);
  keep(node_sector);
  keep(unplaced_share);
  for (size_t f = 0; f < n; ++f) firm_node[node_firm[f]] = static_cast<std::uint32_t>(f);
  departed = 0;
  pool_laid_out = pool;
}

/// After every change: the blocks of the order flow, the firms' classes for the cross-over
/// count (from the tables when they were just made), and no cached view.
void SupplyChain::Impl::finish(const Model& m, const Tables* t) {
  const FirmStore& fs = m.firms;
  const size_t nodes = node_id.size();
  block_begin.assign(1, 0);
  size_t run = 0;
  for (size_t s = 0; s < nodes; ++s) {
    run += row_len[s];
    if (run >= k_links_per_block) {
      block_begin.push_back(static_cast<std::uint32_t>(s + 1));
      run = 0;
    }
  }
  if (block_begin.back() != nodes) block_begin.push_back(static_cast<std::uint32_t>(nodes));
  snap_cluster.assign(fs.cluster.begin(), fs.cluster.end());
  if (t != nullptr) {
    snap_sme.assign(t->sme.begin(), t->sme.end());
  } else {
    snap_sme.resize(fs.size());
    parallel_each(fs.size(), 4096, [&](size_t f) { snap_sme[f] = fs.is_sme(f); });
  }
  cross.store(k_unknown);
  std::lock_guard<std::mutex> lock(view_mutex);
  view.reset();
}

SupplyChain::SupplyChain() : impl_(std::make_unique<Impl>()) {}
SupplyChain::~SupplyChain() = default;
SupplyChain::SupplyChain(SupplyChain&&) noexcept = default;
SupplyChain& SupplyChain::operator=(SupplyChain&&) noexcept = default;

void SupplyChain::build(const Model& m, const std::vector<std::int32_t>* headcount) {
  impl_ = std::make_unique<Impl>();
  Impl& I = *impl_;
  const FirmStore& fs = m.firms;
  const size_t n = fs.size();
  I.prepare_coefficients(m);
  // Node = firm index at the start.
  I.slot_begin.assign(1, 0);
  I.firm_node.resize(n);
  for (size_t f = 0; f < n; ++f) I.add_node(fs, f);
  I.ids.assign(fs.id.begin(), fs.id.end());
  fresh_to(I.slot_supplier, I.slot_begin[n]);
  fresh_to(I.slot_weight, I.slot_begin[n]);
  fresh_to(I.slot_pos, I.slot_begin[n]);
  make_tables(m, I.firm_node, n, I.tables, headcount);
  // Draws are keyed by (customer id, sector): the chunks only share the work.
  m.for_firm_chunks(n, [&](size_t, size_t b, size_t e) {
    for (size_t c = b; c < e; ++c) {
      std::uint32_t* slots = &I.slot_supplier[I.slot_begin[c]];
      if (!fs.alive[c]) {
        std::fill(slots, slots + (I.slot_begin[c + 1] - I.slot_begin[c]), k_none);
        continue;
      }
      I.pick_for_customer(m, I.tables, static_cast<std::uint32_t>(c), slots);
      for (size_t first = I.slot_begin[c]; first < I.slot_begin[c + 1]; first += K)
        I.set_group_weights(I.tables, first);
    }
  });
  // Rows: each supplier's customers in customer index order. Filled per block of
  // customers in parallel: a block's links take the places of each row after those of
  // the blocks before it, known from the blocks' counts per supplier. (The rows are the
  // same for any number of blocks; a fixed number bounds the counts' memory to 16 per
  // firm.)
  const size_t blocks = std::clamp<size_t>(n / 4096, 1, 16), per_block = (n + blocks - 1) / blocks;
  auto block_begin = [&](size_t b) {
    return static_cast<std::uint32_t>(std::min(n, b * per_block));
  };
  // Per block and supplier: its links, then the offset in the row of the block's first.
  std::vector<std::uint32_t> at(blocks * n, 0);
  parallel_each(blocks, 1, [&](size_t b) {
    std::uint32_t* count = &at[b * n];
    for (std::uint32_t i = I.slot_begin[block_begin(b)]; i < I.slot_begin[block_begin(b + 1)]; ++i)
      if (const std::uint32_t s = I.slot_supplier[i]; s != k_none) ++count[s];
  });
  std::vector<std::uint32_t> len(n, 0);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 4096), [&](const auto& r) {
    for (size_t b = 0; b < blocks; ++b)
      for (size_t s = r.begin(); s < r.end(); ++s) {
        const std::uint32_t c = at[b * n + s];
        at[b * n + s] = len[s];
        len[s] += c;
      }
  });
  const size_t pool = lay_out_rows(len, I.row_begin, I.row_cap);
  fresh_to(I.pool_customer, pool);
  fresh_to(I.pool_factor, pool);
  fresh_to(I.pool_slot, pool);
  I.pool_laid_out = pool;
  parallel_each(blocks, 1, [&](size_t b) {
    std::uint32_t* next = &at[b * n];
    for (std::uint32_t c = block_begin(b); c < block_begin(b + 1); ++c)
      for (std::uint32_t i = I.slot_begin[c]; i < I.slot_begin[c + 1]; ++i) {
        const std::uint32_t s = I.slot_supplier[i];
        if (s == k_none) continue;
        const std::uint32_t off = next[s]++, p = I.row_begin[s] + off;
        I.pool_customer[p] = c;
        I.pool_factor[p] = I.factor(c, i);
        I.pool_slot[p] = i;
        I.slot_pos[i] = off;
      }
  });
  I.row_len = len;
  I.links = std::accumulate(len.begin(), len.end(), size_t{0});
  I.unplaced_share.resize(n);
  parallel_each(n, 1024, [&](size_t c) { I.fill_unplaced(c); });
  I.finish(m, &I.tables);
}

void SupplyChain::update(const Model& m, const std::vector<std::uint32_t>& exited,
                         const std::vector<std::uint32_t>& entrants, std::int32_t now) {
  Impl& I = *impl_;
  const FirmStore& fs = m.firms;

  // Exits, in the firm numbering of the last change (the store may have been compacted
  // since).
  std::vector<std::uint32_t> gone;  // nodes
  if (I.same_store(fs)) {
    for (std::uint32_t id : exited) {
      const std::uint32_t f = m.firm_index(id);
      if (f < I.ids.size() && I.ids[f] == id) gone.push_back(I.firm_node[f]);
    }
  } else {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> by_id;  // (id, node)
    by_id.reserve(I.node_id.size());
    for (size_t v = 0; v < I.node_id.size(); ++v)
      if (I.node_firm[v] != k_none) by_id.emplace_back(I.node_id[v], static_cast<std::uint32_t>(v));
    std::sort(by_id.begin(), by_id.end());
    for (std::uint32_t id : exited) {
      const auto it = std::lower_bound(by_id.begin(), by_id.end(), std::make_pair(id, 0u));
      if (it != by_id.end() && it->first == id) gone.push_back(it->second);
    }
  }
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  std::vector<std::uint8_t>& mark = I.node_mark;  // here: exiting
  mark.assign(I.node_id.size(), 0);
  for (std::uint32_t v : gone) mark[v] = 1;
  // Their links as customers leave the suppliers' rows (exiting firms in node order, each
  // in slot order); links between two exiting firms go with the supplier's row below.
  std::vector<Impl::OldLink> drop;
  for (std::uint32_t v : gone)
    for (std::uint32_t i = I.slot_begin[v]; i < I.slot_begin[v + 1]; ++i) {
      const std::uint32_t s = I.slot_supplier[i];
      if (s == k_none) continue;
      if (mark[s]) {
        I.slot_supplier[i] = k_none;
        --I.links;
      } else {
        drop.push_back({s, i});
      }
    }
  I.pop_links(drop);
  // Their links as suppliers: the customers that stay note the slots that lost a
  // supplier (suppliers in parallel: each clears the slots of its own links).
  I.lost_bits.assign((I.slot_supplier.size() + 63) / 64, 0);
  std::vector<std::uint32_t> cut(gone.size());
  parallel_each(gone.size(), 8, [&](size_t g) {
    const std::uint32_t v = gone[g];
    std::uint32_t n = 0;
    for (std::uint32_t j = I.row_begin[v]; j < I.row_begin[v] + I.row_len[v]; ++j) {
      if (mark[I.pool_customer[j]]) continue;  // counted above
      const std::uint32_t slot = I.pool_slot[j];
      I.slot_supplier[slot] = k_none;
      std::atomic_ref<std::uint64_t>(I.lost_bits[slot / 64])
          .fetch_or(std::uint64_t{1} << (slot % 64), std::memory_order_relaxed);
      ++n;
    }
    cut[g] = n;
    I.row_len[v] = 0;
    I.row_cap[v] = 0;  // its places stay unused until the next layout
  });
  for (std::uint32_t n : cut) I.links -= n;
  for (std::uint32_t v : gone) mark[v] = 0;
  // New firms get nodes; after a compaction of the store, nodes find their firms (a firm
  // that left the store with links throws).
  I.sync_store(m, "");
  make_tables(m, I.firm_node, I.node_id.size(), I.tables);  // alive firms: entrants, not exits
  const Tables& t = I.tables;

  // Replacements: one new supplier per lost one, per (customer, sector) in order of
  // customer id and sector. A group of K slots is one (customer, sector), and the slots
  // lie in order of customer node and sector, so the lost slots in slot order are in that
  // order when node order is id order. Each group is drawn, filled and reweighted on its
  // own (in parallel: groups share nothing); their new links join the rows in that order.
  struct Group {
    std::uint32_t first;     // first slot
    std::uint32_t customer;  // node
    std::uint8_t lost;       // slots that lost their supplier
    std::uint8_t sector;
    std::uint8_t added = 0;  // bit i: slot first + i has a new supplier
    bool emptied = false;    // no supplier left in the group, none found
  };
  std::vector<Group> groups;
  {
    std::uint32_t v = 0;  // the customer whose slots the scan is in
    for (size_t w = 0; w < I.lost_bits.size(); ++w) {
      for (std::uint64_t bits = I.lost_bits[w]; bits != 0; bits &= bits - 1) {
        const auto slot = static_cast<std::uint32_t>(w * 64 + std::countr_zero(bits));
        const std::uint32_t first = slot - slot % K;
        if (!groups.empty() && groups.back().first == first) {
          ++groups.back().lost;
          continue;
        }
        while (I.slot_begin[v + 1] <= slot) ++v;
        groups.push_back({first, v, 1, I.slot_sector(v, slot)});
      }
      I.lost_bits[w] = 0;
    }
  }
  if (!I.ids_ascending)
    std::sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
      return std::make_pair(I.node_id[a.customer], a.sector) <
             std::make_pair(I.node_id[b.customer], b.sector);
    });
  parallel_each(groups.size(), 64, [&](size_t r) {
    Group& l = groups[r];
    const std::uint32_t c = I.node_firm[l.customer];
    if (c == k_none || !fs.alive[c]) return;
    const std::uint32_t first = l.first;
    Few taken;  // the customer and its remaining suppliers of the sector (nodes)
    taken.push(l.customer);
    for (size_t i = first; i < first + K; ++i)
      if (I.slot_supplier[i] != k_none) taken.push(I.slot_supplier[i]);
    const size_t room = K + 1 - std::min<size_t>(taken.n, K + 1);
    Rng rng = m.rng(Stream::supply_chain, draw_key(I.node_id[l.customer], l.sector, true), now);
    Few picked;
    draw_suppliers(t, l.sector, fs.zone[c], std::min<size_t>(l.lost, room), taken, rng, picked);
    for (std::uint32_t i = 0, p = 0; i < K && p < picked.n; ++i)
      if (I.slot_supplier[first + i] == k_none) {
        I.slot_supplier[first + i] = picked.v[p++];
        l.added |= static_cast<std::uint8_t>(1u << i);
      }
    I.set_group_weights(t, first);
    l.emptied = std::all_of(&I.slot_supplier[first], &I.slot_supplier[first] + K,
                            [](std::uint32_t s) { return s == k_none; });
    // The links that stayed carry the group's new weights (their places in the rows are
    // final: rows only grow or move from here on, keeping the offsets).
    for (size_t i = 0; i < K; ++i)
      if (!(l.added >> i & 1) && I.slot_supplier[first + i] != k_none)
        I.pool_factor[I.row_begin[I.slot_supplier[first + i]] + I.slot_pos[first + i]] =
            I.factor(l.customer, first + i);
  });

  // Entrants link to suppliers as at the start (drawn in parallel; links in entrant order).
  std::vector<std::uint32_t> fresh;  // nodes
  for (std::uint32_t id : entrants) {
    const std::uint32_t c = m.firm_index(id);
    if (c == k_none || c >= fs.size() || fs.id[c] != id || !fs.alive[c]) continue;
    if (!I.has_suppliers(I.firm_node[c])) fresh.push_back(I.firm_node[c]);  // else linked already
  }
  std::vector<std::uint32_t> made_at(fresh.size() + 1, 0);  // first new link of entrant i
  parallel_each(fresh.size(), 16, [&](size_t i) {
    const std::uint32_t v = fresh[i];
    std::uint32_t* slots = &I.slot_supplier[I.slot_begin[v]];
    I.pick_for_customer(m, t, v, slots);
    for (size_t first = I.slot_begin[v]; first < I.slot_begin[v + 1]; first += K)
      I.set_group_weights(t, first);
    made_at[i + 1] = static_cast<std::uint32_t>(
        I.slot_begin[v + 1] - I.slot_begin[v] -
        std::count(slots, slots + (I.slot_begin[v + 1] - I.slot_begin[v]), k_none));
  });
  // The new links in the order they are made: replacements, then entrants (each group and
  // entrant writes its own places, in parallel).
  std::vector<std::uint32_t> group_at(groups.size() + 1, 0);  // first new link of group r
  for (size_t r = 0; r < groups.size(); ++r)
    group_at[r + 1] = group_at[r] + static_cast<std::uint32_t>(std::popcount(groups[r].added));
  const size_t replaced = group_at.back();
  std::partial_sum(made_at.begin(), made_at.end(), made_at.begin());
  std::vector<Impl::NewLink> fresh_links(replaced + made_at.back());
  parallel_each(groups.size(), 256, [&](size_t r) {
    const Group& g = groups[r];
    // (data() + offset, not &v[offset]: a group may add nothing, and the vector be empty.)
    Impl::NewLink* out = fresh_links.data() + group_at[r];
    for (std::uint32_t i = 0; i < K; ++i)
      if (g.added >> i & 1) {
        const std::uint32_t slot = g.first + i;
        *out++ = {slot, g.customer, I.slot_supplier[slot], I.factor(g.customer, slot)};
      }
  });
  parallel_each(fresh.size(), 64, [&](size_t e) {
    const std::uint32_t v = fresh[e];
    Impl::NewLink* out = fresh_links.data() + replaced + made_at[e];
    for (std::uint32_t i = I.slot_begin[v]; i < I.slot_begin[v + 1]; ++i)
      if (I.slot_supplier[i] != k_none) *out++ = {i, v, I.slot_supplier[i], I.factor(v, i)};
  });
  I.push_links(fresh_links);
  // Unplaced shares of the customers whose supplied sectors changed (each once): the
  // entrants, the exited firms (no suppliers left), and the customers left without any
  // supplier of a sector. (A group that keeps or finds a supplier leaves its sector
  // supplied: recomputing its customer's share, as was done, gave the same share.)
  std::vector<std::uint32_t> touched;
  auto touch = [&](std::uint32_t v) {
    if (!mark[v]) touched.push_back(v), mark[v] = 1;
  };
  mark.resize(I.node_id.size(), 0);
  for (std::uint32_t v : fresh) touch(v);
  for (std::uint32_t v : gone) touch(v);
  for (const Group& g : groups)
    if (g.emptied) touch(g.customer);
  for (std::uint32_t v : touched) mark[v] = 0;
  parallel_each(touched.size(), 256, [&](size_t i) { I.fill_unplaced(touched[i]); });
  I.finish(m, &I.tables);
}

void SupplyChain::distribute_orders(const Model& m, std::vector<double>& order_demand,
                                    double& unplaced) const {
  const Impl& I = *impl_;
  const FirmStore& fs = m.firms;
  const size_t n = fs.size();
  // Entrants not yet passed to update() may follow the known firms (the model rewires once
  // a quarter): they have no links yet, so they buy outside the region.
  const size_t known = I.ids.size();
  if (!I.same_store(fs))
    throw InvariantError(
        "supply chain: the firm store changed since the last build/update/reindex (call update "
        "after entries and exits, reindex after compaction)");
  order_demand.assign(n, 0.0);
  // What each node buys per unit of factor: its firm's regional inputs if alive, else 0
  // (it exited but has not been passed to update() yet). Kept per calling thread, so that
  // the monthly call allocates nothing and concurrent calls share nothing. The same pass
  // sums, per fixed block of nodes, the purchases without a regional supplier.
  const size_t nodes = I.node_id.size();
  const size_t node_blocks = (nodes + k_flow_block - 1) / k_flow_block;
  const size_t supplier_blocks = I.block_begin.size() - 1;
  thread_local std::vector<double> buying, partial;
  buying.resize(nodes);
  partial.assign(node_blocks + supplier_blocks, 0.0);
  double* buy = buying.data();
  double* part = partial.data();
  const double* inputs = fs.regional_inputs.data();
  const std::uint8_t* alive = fs.alive.data();
  const std::uint32_t* node_firm = I.node_firm.data();
  const double* share = I.unplaced_share.data();
  parallel_each(node_blocks, 1, [=](size_t b) {
    double rest = 0.0;
    for (size_t v = b * k_flow_block; v < std::min(nodes, (b + 1) * k_flow_block); ++v) {
      const std::uint32_t f = node_firm[v];
      buy[v] = f != k_none && alive[f] ? inputs[f] : 0.0;
      rest += buy[v] * share[v];
    }
    part[b] = rest;
  });
  // Each supplier gathers its customers' orders along its row, in row order: the same
  // sums for any number of threads and any chunk size. (Nodes whose firm left the store
  // have no links.) Orders addressed to a firm that exited but has not been passed to
  // update() yet are bought outside the region. The loop is bound by each row's chain of
  // additions and the row ends, not by the 12 bytes a link it streams (the pool stays in
  // the last-level cache): in a benchmark of the loop, summing the factors alone took two
  // thirds of its time, and four partial sums per row, four rows side by side or rows
  // taken by length were no faster (rows average some 15 links). Factors as floats took
  // 16 % less in the model, but would cost the orders their 1e-9 relative precision
  // (money balances to that in the accounts and tests).
  const std::uint32_t* customer = I.pool_customer.data();
  const double* factor = I.pool_factor.data();
  const std::uint32_t* row_begin = I.row_begin.data();
  const std::uint32_t* row_len = I.row_len.data();
  const std::uint32_t* block = I.block_begin.data();
  double* out = order_demand.data();
  parallel_each(supplier_blocks, 1, [=](size_t b) {
    double rest = 0.0;
    for (size_t s = block[b]; s < block[b + 1]; ++s) {
      double sum = 0.0;
      for (size_t j = row_begin[s], e = j + row_len[s]; j < e; ++j)
        sum += buy[customer[j]] * factor[j];
      const std::uint32_t f = node_firm[s];
      if (f != k_none && alive[f])
        out[f] = sum;
      else
        rest += sum;
    }
    part[node_blocks + b] = rest;
  });
  // The purchases bought outside, in a fixed order: per node block, per supplier block,
  // then the firms not yet known (entrants not yet passed to update(); those that already
  // closed buy nothing, as the exited known firms above).
  double rest = 0.0;
  for (size_t b = 0; b < node_blocks + supplier_blocks; ++b) rest += part[b];
  for (size_t f = known; f < n; ++f)
    if (alive[f]) rest += inputs[f];
  unplaced += rest;
}

namespace {
/// Once a quarter of the nodes belong to firms that left the store, reindex() lays the
/// slots out afresh, numbering the nodes anew.
bool renumber_due(size_t departed, size_t nodes) {
  return departed * 4 > nodes;
}
}  // namespace

bool SupplyChain::renumbers_at_compaction(const Model& m) const {
  const Impl& I = *impl_;
  const FirmStore& fs = m.firms;
  size_t leaving = 0;  // nodes whose firm the compaction drops
  for (size_t f = 0; f < std::min(fs.size(), I.firm_node.size()); ++f)
    leaving += !fs.alive[f] && I.firm_node[f] != k_none;
  return renumber_due(I.departed + leaving, I.node_id.size());
}

void SupplyChain::reindex(const Model& m) {
  Impl& I = *impl_;
  I.sync_store(m, " before compaction");
  // The store's compaction costs the links nothing (nodes keep their numbers). Once a
  // year the pool is laid out afresh, so that the monthly order flow streams rows without
  // holes; once a quarter of the nodes belong to firms that left the store (every few
  // years), the slots are laid out afresh too.
  if (renumber_due(I.departed, I.node_id.size()))
    I.compact_nodes();
  else if (I.pool_customer.size() > I.pool_laid_out + I.pool_laid_out / 10)
    I.compact_pool();
  I.finish(m, nullptr);
}
std::size_t SupplyChain::nodes() const {
  return impl_->node_id.size();
}

std::size_t SupplyChain::edges() const {
  return impl_->links;
}

std::size_t SupplyChain::cross_links() const {
  const Impl& I = *impl_;
  size_t cross = I.cross.load();
  if (cross != k_unknown) return cross;
  cross = 0;  // the same count whichever thread computes it first
  for (size_t s = 0; s < I.row_len.size(); ++s)
    for (std::uint32_t j = I.row_begin[s]; j < I.row_begin[s] + I.row_len[s]; ++j) {
      const std::uint32_t fs = I.node_firm[s], fc = I.node_firm[I.pool_customer[j]];
      if (I.snap_cluster[fs] != I.snap_cluster[fc] || I.snap_sme[fs] != I.snap_sme[fc]) ++cross;
    }
  I.cross.store(cross);
  return cross;
}

std::shared_ptr<const SupplyChainGraph> SupplyChain::graph() const {
  const Impl& I = *impl_;
  std::lock_guard<std::mutex> lock(I.view_mutex);
  if (I.view) return I.view;
  const size_t n = I.ids.size();
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ends;
  std::vector<SupplyChainGraph::Link> props;
  ends.reserve(I.links);
  props.reserve(I.links);
  for (std::uint32_t f = 0; f < n; ++f) {
    const std::uint32_t s = I.firm_node[f];
    for (std::uint32_t j = I.row_begin[s]; j < I.row_begin[s] + I.row_len[s]; ++j) {
      ends.emplace_back(f, I.node_firm[I.pool_customer[j]]);
      props.push_back({I.slot_weight[I.pool_slot[j]], I.node_sector[s],
                       I.factor(I.pool_customer[j], I.pool_slot[j])});
    }
  }
  auto view = std::make_shared<SupplyChainGraph>();
  // Sorted by source (supplier), each supplier's edges in row order: the graph keeps them.
  view->g = SupplyChainGraph::Graph(boost::edges_are_sorted, ends.begin(), ends.end(),
                                    props.begin(), n, ends.size());
  for (std::uint32_t v = 0; v < n; ++v) view->g[v].id = I.ids[v];
  I.view = std::move(view);
  return I.view;
}

std::vector<SupplyChain::Link> SupplyChain::links() const {
  const std::shared_ptr<const SupplyChainGraph> view = graph();
  const auto& g = view->g;
  std::vector<Link> out;
  out.reserve(boost::num_edges(g));
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    out.push_back({g[boost::source(*e, g)].id, g[boost::target(*e, g)].id, g[*e].weight,
                   g[*e].input_sector, g[*e].share});
  return out;
}

void SupplyChain::check() const {
  const Impl& I = *impl_;
  const size_t n = I.ids.size(), nodes = I.node_id.size();
  auto fail = [](const std::string& what) {
    throw InvariantError("supply chain: the patched links differ from a fresh flattening: " + what);
  };
  if (I.firm_node.size() != n || I.node_firm.size() != nodes || I.node_sector.size() != nodes ||
      I.slot_begin.size() != nodes + 1 || I.row_begin.size() != nodes ||
      I.row_len.size() != nodes || I.row_cap.size() != nodes || I.unplaced_share.size() != nodes ||
      I.slot_supplier.size() != I.slot_begin[nodes])
    fail("array sizes");
  // Firms and nodes.
  size_t departed = 0;
  for (size_t v = 0; v < nodes; ++v) {
    const std::uint32_t f = I.node_firm[v];
    if (f == k_none) {
      ++departed;
      if (I.has_links(v)) fail(fmt::format("firm {} left the store with links", I.node_id[v]));
    } else if (f >= n || I.firm_node[f] != v || I.ids[f] != I.node_id[v]) {
      fail(fmt::format("node of firm {}", I.node_id[v]));
    }
  }
  if (departed != I.departed) fail("departed firms");
  if (I.ids_ascending)
    for (size_t v = 1; v < nodes; ++v)
      if (I.node_id[v] <= I.node_id[v - 1]) fail("node ids do not increase with the node");
  // A fresh flattening of the customer side: per supplier, its (customer, slot, factor) in
  // customer order, against its row sorted the same way.
  std::vector<std::uint32_t> begin(nodes + 1, 0);
  size_t count = 0;
  for (std::uint32_t c = 0; c < nodes; ++c) {
    if (I.slot_begin[c + 1] - I.slot_begin[c] != I.slots_of_sector(I.node_sector[c]))
      fail(fmt::format("slot block of firm {}", I.node_id[c]));
    for (std::uint32_t i = I.slot_begin[c]; i < I.slot_begin[c + 1]; ++i) {
      const std::uint32_t s = I.slot_supplier[i];
      if (s == k_none) continue;
      if (s >= nodes || s == c) fail(fmt::format("a supplier of firm {}", I.node_id[c]));
      if (I.node_sector[s] != I.slot_sector(c, i))
        fail(fmt::format("the sector of a supplier of firm {}", I.node_id[c]));
      ++begin[s + 1];
      ++count;
    }
  }
  if (count != I.links) fail(fmt::format("{} links in slots, {} counted", count, I.links));
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  struct Entry {
    std::uint32_t customer, slot;
    double factor;
    bool operator<(const Entry& o) const {
      return std::tie(customer, slot) < std::tie(o.customer, o.slot);
    }
    bool operator==(const Entry& o) const {
      return customer == o.customer && slot == o.slot && factor == o.factor;
    }
  };
  std::vector<Entry> fresh(count);
  std::vector<std::uint32_t> at(begin.begin(), begin.end() - 1);
  for (std::uint32_t c = 0; c < nodes; ++c)
    for (std::uint32_t i = I.slot_begin[c]; i < I.slot_begin[c + 1]; ++i)
      if (I.slot_supplier[i] != k_none) fresh[at[I.slot_supplier[i]]++] = {c, i, I.factor(c, i)};
  std::vector<Entry> row;
  // Rows lie in the pool without overlapping.
  std::vector<std::uint8_t> used(I.pool_customer.size(), 0);
  auto claim = [&](size_t b, size_t n, const std::string& what) {
    if (b + n > used.size()) fail(what + " outside the pool");
    for (size_t j = b; j < b + n; ++j)
      if (used[j]++) fail(what + " overlaps another row");
  };
  size_t in_rows = 0;
  for (std::uint32_t s = 0; s < nodes; ++s) {
    if (I.row_len[s] > I.row_cap[s] || (I.node_firm[s] == k_none && I.row_cap[s] != 0))
      fail(fmt::format("the row of firm {}", I.node_id[s]));
    claim(I.row_begin[s], I.row_cap[s], fmt::format("the row of firm {}", I.node_id[s]));
    row.clear();
    for (std::uint32_t j = I.row_begin[s]; j < I.row_begin[s] + I.row_len[s]; ++j) {
      const std::uint32_t slot = I.pool_slot[j];
      if (slot >= I.slot_supplier.size() || I.slot_supplier[slot] != s ||
          I.slot_pos[slot] != j - I.row_begin[s])
        fail(fmt::format("the position of a link of firm {}", I.node_id[s]));
      row.push_back({I.pool_customer[j], slot, I.pool_factor[j]});
    }
    in_rows += row.size();
    std::sort(row.begin(), row.end());
    if (row.size() != begin[s + 1] - begin[s] ||
        !std::equal(row.begin(), row.end(), fresh.begin() + begin[s]))
      fail(fmt::format("the customers of firm {}", I.node_id[s]));
  }
  if (in_rows != I.links) fail("links in rows");
  // Unplaced shares from scratch.
  for (size_t c = 0; c < nodes; ++c) {
    const auto& coef = I.coef[I.node_sector[c]];
    std::vector<std::uint8_t> supplied(coef.size(), 0);
    for (std::uint32_t i = I.slot_begin[c]; i < I.slot_begin[c + 1]; ++i)
      if (I.slot_supplier[i] != k_none) supplied[I.slot_sector(c, i)] = 1;
    double share = 0.0;
    for (size_t k = 0; k < coef.size(); ++k)
      if (coef[k] > 0.0 && !supplied[k]) share += coef[k];
    if (share != I.unplaced_share[c])
      fail(fmt::format("the unplaced share of firm {}", I.node_id[c]));
  }
  if (I.block_begin.empty() || I.block_begin.front() != 0 || I.block_begin.back() != nodes)
    fail("the blocks of the order flow");
}

}  // namespace regio
