// A parsed YAML document as a tree whose every node remembers its file, line and column,
// so that errors found after `extends:` merging still point at the right place.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace regio {

struct SourceLoc {
  std::string file;
  int line = 0;    ///< 1-based
  int column = 0;  ///< 1-based
};

struct DocNode {
  enum class Kind { null, scalar, sequence, map };
  Kind kind = Kind::null;
  std::string scalar;
  std::vector<DocNode> items;                            ///< sequence
  std::vector<std::pair<std::string, DocNode>> entries;  ///< map, in file order
  std::vector<SourceLoc> key_locs;                       ///< map: where each key was written
  SourceLoc loc;

  const DocNode* find(const std::string& key) const;
  DocNode* find(const std::string& key);
};

/// Parses YAML text (from `file`, used in messages); throws InputError on bad syntax
/// or duplicate keys.
DocNode parse_yaml(const std::string& text, const std::string& file);

/// Overlays `child` on `base`: maps merge key by key, anything else is replaced.
void merge_into(DocNode& base, const DocNode& child);

/// Emits the tree as YAML (used to record the resolved scenario).
std::string emit_yaml(const DocNode& node);

}  // namespace regio
