#include "sim/doc_tree.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "sim/errors.hpp"

namespace regio {

const DocNode* DocNode::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}
DocNode* DocNode::find(const std::string& key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

namespace {
SourceLoc loc_of(const YAML::Node& n, const std::string& file) {
  const YAML::Mark m = n.Mark();
  return SourceLoc{file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

DocNode convert(const YAML::Node& n, const std::string& file) {
  DocNode out;
  out.loc = loc_of(n, file);
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out.kind = DocNode::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      out.kind = DocNode::Kind::scalar;
      out.scalar = n.Scalar();
      break;
    case YAML::NodeType::Sequence:
      out.kind = DocNode::Kind::sequence;
      for (const auto& item : n) out.items.push_back(convert(item, file));
      break;
    case YAML::NodeType::Map: {
      out.kind = DocNode::Kind::map;
      std::set<std::string> seen;
      for (const auto& kv : n) {
        const SourceLoc kl = loc_of(kv.first, file);
        if (!kv.first.IsScalar())
          throw InputError(file, kl.line, kl.column, "", "map keys must be plain names");
        const std::string key = kv.first.Scalar();
        if (!seen.insert(key).second)
          throw InputError(file, kl.line, kl.column, key, "duplicate key");
        out.entries.emplace_back(key, convert(kv.second, file));
        out.key_locs.push_back(kl);
      }
      break;
    }
  }
  return out;
}

void emit(const DocNode& n, YAML::Emitter& e) {
  switch (n.kind) {
    case DocNode::Kind::null:
      e << YAML::Null;
      break;
    case DocNode::Kind::scalar:
      e << n.scalar;
      break;
    case DocNode::Kind::sequence:
      e << YAML::Flow << YAML::BeginSeq;
      for (const auto& i : n.items) emit(i, e);
      e << YAML::EndSeq;
      break;
    case DocNode::Kind::map:
      e << YAML::BeginMap;
      for (const auto& [k, v] : n.entries) {
        e << YAML::Key << k << YAML::Value;
        emit(v, e);
      }
      e << YAML::EndMap;
      break;
  }
}
}  // namespace

DocNode parse_yaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& ex) {
    throw InputError(file, ex.mark.line + 1, ex.mark.column + 1, "", "malformed YAML: " + ex.msg);
  }
  DocNode tree = convert(root, file);
  if (tree.kind != DocNode::Kind::map)
    throw InputError(file, tree.loc.line, tree.loc.column, "",
                     "a scenario must be a map of keys (name:, period:, zones:, ...)");
  return tree;
}

void merge_into(DocNode& base, const DocNode& child) {
  // A plain value overriding a parameter map ({value, range, source}) keeps the range
  // and records where the new value came from.
  if (base.kind == DocNode::Kind::map && child.kind == DocNode::Kind::scalar &&
      base.find("value")) {
    *base.find("value") = child;
    DocNode src;
    src.kind = DocNode::Kind::scalar;
    src.scalar = "set in " + child.loc.file;
    src.loc = child.loc;
    if (DocNode* s = base.find("source")) {
      *s = src;
    } else {
      base.entries.emplace_back("source", src);
      base.key_locs.push_back(child.loc);
    }
    return;
  }
  if (base.kind != DocNode::Kind::map || child.kind != DocNode::Kind::map) {
    base = child;
    return;
  }
  for (size_t i = 0; i < child.entries.size(); ++i) {
    const auto& [key, value] = child.entries[i];
    if (DocNode* existing = base.find(key)) {
      merge_into(*existing, value);
    } else {
      base.entries.emplace_back(key, value);
      base.key_locs.push_back(child.key_locs[i]);
    }
  }
}

std::string emit_yaml(const DocNode& node) {
  YAML::Emitter e;
  emit(node, e);
  return e.c_str();
}

}  // namespace regio
