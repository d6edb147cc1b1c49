// Removing dead agents from struct-of-arrays storage while keeping id order: the kept
// indices are computed once, then every field is gathered in place (branch-free).
#pragma once
#include <oneapi/tbb/task_group.h>

#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace regio {

/// Indices of the rows whose `alive` flag is set, in increasing order.
inline std::vector<std::uint32_t> kept_rows(const std::vector<std::uint8_t>& alive) {
  std::vector<std::uint32_t> keep;
  keep.reserve(alive.size());
  for (size_t r = 0; r < alive.size(); ++r)
    if (alive[r]) keep.push_back(static_cast<std::uint32_t>(r));
  return keep;
}

/// Moves rows `keep[k]` to position k (safe in place because keep[k] >= k).
template <class T>
void gather_rows(std::vector<T>& v, const std::vector<std::uint32_t>& keep) {
  for (size_t k = 0; k < keep.size(); ++k) v[k] = v[keep[k]];
  v.resize(keep.size());
}

/// gather_rows for fields that own memory (moves instead of copies).
template <class T>
void gather_rows_move(std::vector<T>& v, const std::vector<std::uint32_t>& keep) {
  for (size_t k = 0; k < keep.size(); ++k)
    if (keep[k] != k) v[k] = std::move(v[keep[k]]);
  v.resize(keep.size());
}

/// gather_rows (gather_rows_move for fields that own memory) of every field, fields in
/// parallel: each is its own pass over memory, and they share nothing.
template <class... V>
void gather_fields(const std::vector<std::uint32_t>& keep, V&... fields) {
  tbb::task_group tasks;
  (tasks.run([&keep, &fields] {
    if constexpr (std::is_trivially_copyable_v<typename V::value_type>)
      gather_rows(fields, keep);
    else
      gather_rows_move(fields, keep);
  }),
   ...);
  tasks.wait();
}

}  // namespace regio
