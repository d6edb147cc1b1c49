// Households: who lives together in one dwelling, and moves out of the region together.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/types.hpp"

namespace regio {

class Model;

struct HouseholdStore {
  std::vector<std::uint32_t> id;
  std::vector<std::uint16_t> zone;
  std::vector<std::uint32_t> first_member;  ///< person id heading the member list
  std::vector<std::uint16_t> size;
  std::vector<std::int32_t> ref_birth;  ///< birth month of the oldest member
  std::vector<std::int32_t> next_move;  ///< Month::index of moving out of the region
  std::vector<std::uint8_t> alive;

  size_t size_count() const { return id.size(); }
  size_t append(std::uint32_t new_id, std::uint16_t zone_index);
  /// Appends n households with ids first_id, first_id + 1, ... (zone 0, no members);
  /// returns the index of the first.
  size_t append_n(std::uint32_t first_id, size_t n);
  void compact();
  size_t bytes() const;
};

enum class Role : std::uint8_t;  // agents/persons.hpp

namespace households {

/// Adds person index p to household index h with `role`: at the head of the member list,
/// and the reference (oldest member's) birth month follows.
void add_member(Model& m, size_t h, size_t p, Role role);
/// Draws the month in which household index h moves out of the region.
void schedule_move(Model& m, size_t h, std::int32_t now);
/// Collects (in index order) the ids of households moving out this month; parallel chunks.
void due_moves(const Model& m, size_t begin, size_t end, std::int32_t now,
               std::vector<std::uint32_t>& out);

}  // namespace households
}  // namespace regio
