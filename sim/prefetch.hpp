// Hints to the processor to fetch memory that is read soon. They change no state: code
// that uses them gives the same results without them.
#pragma once

namespace regio {

/// Asks the processor to fetch each address into its caches.
template <class... T>
inline void prefetch(const T*... addresses) {
  (__builtin_prefetch(addresses), ...);
}

}  // namespace regio
