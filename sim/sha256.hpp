// SHA-256 (FIPS 180-4), used to fingerprint the scenario text stored with every run.
#pragma once
#include <string>
#include <string_view>

namespace regio {
/// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);
}  // namespace regio
