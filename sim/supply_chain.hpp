// The supply-chain graph: a directed, weighted graph supplier -> customer over firms
// (Boost.Graph). Built from the sector input coefficients and each sector's regional
// sourcing share: a customer picks a few suppliers per input sector, with probability
// rising with supplier size and falling with distance. Exits break links and customers
// rewire; entrants attach. Every month the regional input purchases of each customer
// flow as orders to its suppliers; each supplier gathers its incoming orders, so the
// flow is parallel and deterministic.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace regio {

class Model;

class SupplyChain {
 public:
  SupplyChain();
  ~SupplyChain();
  SupplyChain(SupplyChain&&) noexcept;
  SupplyChain& operator=(SupplyChain&&) noexcept;

  /// Links every alive firm of m.firms to suppliers (called once, after build_firms and
  /// the initial matching: supplier size is headcount). For each input sector with a
  /// coefficient of at least 0.02 a customer picks up to 3 distinct suppliers with
  /// probability proportional to max(1, headcount) x exp(-km / 10 km); knowledge
  /// institutions are never suppliers. Link weight = the supplier's size share among them.
  /// Replaces any previous graph. Needs m.commuting built.
  void build(const Model& m);

  /// Rewires after the firm store changed: customers of exited firms pick new suppliers
  /// of the same sector; entrants attach as customers (and become candidate suppliers).
  /// `exited` and `entrants` are firm ids, in increasing order. Call after the store's
  /// ids/indices are final for the month (before compaction is fine: exited firms have
  /// alive == 0). A customer's weights in a sector that lost a supplier become the current
  /// size shares of its suppliers there; draws are keyed by (customer, sector, now).
  void update(const Model& m, const std::vector<std::uint32_t>& exited,
              const std::vector<std::uint32_t>& entrants, std::int32_t now);

  /// Orders for next month: for every alive firm c, m.firms.regional_inputs[c] is split
  /// over input sectors by the customer's input coefficients and, within a sector, over
  /// its suppliers by link weight. Writes order_demand[f] (indexed like m.firms, resized)
  /// = the sum of orders firm f receives. Input sectors in which a customer has no
  /// supplier are bought outside the region: their amount is added to `unplaced` (as are
  /// orders addressed to a firm that exited but has not been passed to update yet), so
  /// sum(order_demand) + added unplaced = sum of alive firms' regional_inputs. Bit-identical
  /// for any number of threads and chunk size. Throws InvariantError if m.firms changed
  /// since the last build/update/reindex.
  void distribute_orders(const Model& m, std::vector<double>& order_demand, double& unplaced) const;

  /// Call after m.firms has been compacted and the model's firm index rebuilt (ids are
  /// stable, indices change). Throws InvariantError if a firm that left the store still has
  /// links (it was not passed to update as exited).
  void reindex(const Model& m);

  std::size_t edges() const;
  /// Links whose supplier and customer belong to different clusters (no cluster counts as
  /// a cluster of its own) or where exactly one side is an SME; counted at the last
  /// build/update/reindex (SME status follows headcount).
  std::size_t cross_links() const;

  /// One supplier -> customer link.
  struct Link {
    std::uint32_t supplier = 0;  ///< firm id
    std::uint32_t customer = 0;  ///< firm id
    double weight = 0.0;         ///< share of the customer's regional purchases of input_sector
    std::uint8_t input_sector = 0;
  };
  /// Every link in creation order (the order in which a supplier sums its orders); for
  /// tests, diagnostics and network output.
  std::vector<Link> links() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace regio
