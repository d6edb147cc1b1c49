#include "agents/households.hpp"

#include <numeric>

#include "agents/persons.hpp"
#include "sim/compaction.hpp"
#include "sim/model.hpp"

namespace regio {

size_t HouseholdStore::append(std::uint32_t new_id, std::uint16_t zone_index) {
  id.push_back(new_id);
  zone.push_back(zone_index);
  first_member.push_back(k_none);
  size.push_back(0);
  ref_birth.push_back(0);
  next_move.push_back(k_never);
  alive.push_back(1);
  return id.size() - 1;
}

size_t HouseholdStore::append_n(std::uint32_t first_id, size_t n) {
  const size_t first = id.size();
  id.resize(first + n);
  std::iota(id.begin() + static_cast<std::ptrdiff_t>(first), id.end(), first_id);
  zone.resize(first + n, 0);
  first_member.resize(first + n, k_none);
  size.resize(first + n, 0);
  ref_birth.resize(first + n, 0);
  next_move.resize(first + n, k_never);
  alive.resize(first + n, 1);
  return first;
}

void HouseholdStore::compact() {
  const std::vector<std::uint32_t> keep = kept_rows(alive);
  if (keep.size() == alive.size()) return;
  gather_fields(keep, id, zone, first_member, size, ref_birth, next_move, alive);
}

size_t HouseholdStore::bytes() const {
  return id.capacity() * 4 + zone.capacity() * 2 + first_member.capacity() * 4 +
         size.capacity() * 2 + ref_birth.capacity() * 4 + next_move.capacity() * 4 +
         alive.capacity();
}

namespace households {

void add_member(Model& m, size_t h, size_t p, Role role) {
  auto& ps = m.persons;
  auto& hh = m.households;
  ps.household[p] = hh.id[h];
  ps.role[p] = idx(role);
  ps.next_member[p] = hh.first_member[h];
  hh.first_member[h] = ps.id[p];
  if (hh.size[h] == 0 || ps.birth_month[p] < hh.ref_birth[h]) hh.ref_birth[h] = ps.birth_month[p];
  ++hh.size[h];
}

void schedule_move(Model& m, size_t h, std::int32_t now) {
  auto& hh = m.households;
  Rng rng = m.rng(Stream::out_migration, hh.id[h], now);
  const std::int32_t age = now - hh.ref_birth[h];
  const std::int32_t at = m.schedules.out_migration.sample(age, rng.uniform());
  hh.next_move[h] = at == k_never ? k_never : hh.ref_birth[h] + at;
}

void due_moves(const Model& m, size_t begin, size_t end, std::int32_t now,
               std::vector<std::uint32_t>& out) {
  const auto& hh = m.households;
  for (size_t h = begin; h < end; ++h)
    if (hh.next_move[h] == now && hh.alive[h]) out.push_back(hh.id[h]);
}

}  // namespace households
}  // namespace regio
