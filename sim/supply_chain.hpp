// The supply-chain graph: a directed, weighted graph supplier -> customer over firms.
// Built from the sector input coefficients and each sector's regional sourcing share: a
// customer picks a few suppliers per input sector, with probability rising with supplier
// size and falling with distance. Exits break links and customers rewire; entrants attach.
// Every month the regional input purchases of each customer flow as orders to its
// suppliers; each supplier gathers its incoming orders, so the flow is parallel and
// deterministic. The links are kept in flat arrays patched in place (sim/supply_chain.cpp
// says why); graph() gives them as a Boost.Graph for analysis (sim/supply_chain_graph.hpp).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace regio {

class Model;
struct SupplyChainGraph;  // sim/supply_chain_graph.hpp

class SupplyChain {
 public:
  SupplyChain();
  ~SupplyChain();
  SupplyChain(SupplyChain&&) noexcept;
  SupplyChain& operator=(SupplyChain&&) noexcept;

  /// Links every alive firm of m.firms to suppliers (called once, after build_firms:
  /// supplier size is headcount, that of the initial matching). For each input sector with a
  /// coefficient of at least 0.02 a customer picks up to 3 distinct suppliers with
  /// probability proportional to max(1, headcount) x exp(-km / 10 km); knowledge
  /// institutions are never suppliers. Link weight = the supplier's size share among them.
  /// Replaces any previous graph. Needs m.commuting built. `headcount`, if given, stands
  /// for the firms' headcounts (by firm index): the start builds the chain beside the
  /// population, before the initial matching, for the positions it is to fill.
  void build(const Model& m, const std::vector<std::int32_t>* headcount = nullptr);

  /// Rewires after the firm store changed: customers of exited firms pick new suppliers
  /// of the same sector; entrants attach as customers (and become candidate suppliers).
  /// `exited` and `entrants` are firm ids, in increasing order. Call after the store's
  /// ids/indices are final for the month (before compaction is fine: exited firms have
  /// alive == 0). A customer's weights in a sector that lost a supplier become the current
  /// size shares of its suppliers there; draws are keyed by (customer, sector, now).
  /// Costs O(changed links + firms), not O(links).
  void update(const Model& m, const std::vector<std::uint32_t>& exited,
              const std::vector<std::uint32_t>& entrants, std::int32_t now);

  /// Orders for next month: for every alive firm c, m.firms.regional_inputs[c] is split
  /// over input sectors by the customer's input coefficients and, within a sector, over
  /// its suppliers by link weight. Writes order_demand[f] (indexed like m.firms, resized)
  /// = the sum of orders firm f receives. Input sectors in which a customer has no
  /// supplier are bought outside the region: their amount is added to `unplaced` (as are
  /// orders addressed to a firm that exited but has not been passed to update yet), so
  /// sum(order_demand) + added unplaced = sum of alive firms' regional_inputs. Each
  /// supplier sums its customers' orders in the order of its out-edges in links() (a
  /// deterministic function of the history of builds, updates and reindexes, not of
  /// threads), so the result is bit-identical for any number of threads and chunk size.
  /// Throws InvariantError if m.firms changed since the last build/update/reindex.
  void distribute_orders(const Model& m, std::vector<double>& order_demand, double& unplaced) const;

  /// Call after m.firms has been compacted and the model's firm index rebuilt (ids are
  /// stable, indices change). Maps the links to the new indices (O(firms); now and then the
  /// chain also compacts its own arrays); every supplier keeps the order of its customers,
  /// so orders are bit-identical across a reindex. Throws InvariantError if a firm that left
  /// the store still has links (it was not passed to update as exited).
  void reindex(const Model& m);
  /// Whether reindex() after a compaction of m.firms now (which drops the firms that are
  /// not alive) would also number the nodes afresh. distribute_orders sums the purchases
  /// without a regional supplier in fixed blocks of nodes: after a renumbering, the same
  /// purchases may sum to a result that differs by rounding.
  bool renumbers_at_compaction(const Model& m) const;

  std::size_t edges() const;
  /// Nodes: every firm the chain has seen, until it numbers them afresh without those
  /// that left the store (see reindex).
  std::size_t nodes() const;
  /// Links whose supplier and customer belong to different clusters (no cluster counts as
  /// a cluster of its own) or where exactly one side is an SME; as of the last
  /// build/update/reindex (SME status follows headcount). Counted on first request.
  std::size_t cross_links() const;

  /// One supplier -> customer link.
  struct Link {
    std::uint32_t supplier = 0;  ///< firm id
    std::uint32_t customer = 0;  ///< firm id
    double weight = 0.0;         ///< share of the customer's regional purchases of input_sector
    std::uint8_t input_sector = 0;
    double share = 0.0;  ///< share of all the customer's regional purchases (its order factor)
  };
  /// Every link, supplier by supplier in firm index order, each supplier's customers in
  /// the order in which it sums their orders; read from graph(). For tests, diagnostics
  /// and network output.
  std::vector<Link> links() const;

  /// The links as a Boost.Graph (compressed sparse row; include sim/supply_chain_graph.hpp
  /// to use it), built on first request after each build/update/reindex and shared until
  /// the next one. Safe to call from several threads.
  std::shared_ptr<const SupplyChainGraph> graph() const;

  /// Checks the incrementally patched arrays against a from-scratch flattening of the same
  /// links (each supplier's customers and factors, the link positions, the unplaced shares,
  /// the link count); throws InvariantError on a difference. O(links); for tests.
  void check() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regio
