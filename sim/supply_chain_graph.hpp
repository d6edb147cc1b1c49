// The supply-chain links as a Boost.Graph, for analysis: network statistics, traversals,
// output and tests. SupplyChain keeps its links in flat arrays patched in place (see
// sim/supply_chain.cpp); SupplyChain::graph() turns them into this compressed sparse row
// graph on demand. A header of its own, so that the many files that include the model
// (and with it sim/supply_chain.hpp) do not compile the Boost.Graph templates.
#pragma once
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <cstdint>

#include "sim/supply_chain.hpp"

namespace regio {

struct SupplyChainGraph {
  struct Firm {
    std::uint32_t id = 0;  ///< firm id
  };
  struct Link {
    double weight = 0.0;  ///< share of the customer's regional purchases of input_sector
    std::uint8_t input_sector = 0;
    /// Share of all the customer's regional purchases that goes along this link (weight x
    /// the customer sector's input coefficient of input_sector, rows summing to 1): the
    /// factor by which the link carries the customer's orders.
    double share = 0.0;
  };
  /// Vertex v = firm index v of the store at the last build/update/reindex (firms that
  /// exited keep their vertex, without links, until the store is compacted); edges run
  /// supplier -> customer, each supplier's out-edges in the order in which it sums its
  /// customers' orders.
  using Graph = boost::compressed_sparse_row_graph<boost::directedS, Firm, Link, boost::no_property,
                                                   std::uint32_t, std::uint32_t>;
  Graph g;
};

}  // namespace regio
