#include "nemo_fast/decoding/hypothesis_paths.h"

#include <algorithm>

namespace nemo_fast {

int HypothesisPaths::Extend(int parent, int token, int64_t frame, float confidence, int duration) {
  const int depth = parent == kEmpty ? static_cast<int>(dropped_) + 1 : nodes_[parent].depth + 1;
  nodes_.push_back({parent, token, depth, frame, confidence, duration});
  return static_cast<int>(nodes_.size()) - 1;
}

std::vector<int> HypothesisPaths::Path(int node) const {
  std::vector<int> path;
  for (; node != kEmpty && nodes_[node].depth > static_cast<int>(dropped_); node = nodes_[node].parent) {
    path.push_back(node);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

void HypothesisPaths::Clear() {
  nodes_.clear();
  dropped_ = 0;
}

void HypothesisPaths::MaybeCompact(std::vector<int*> live, size_t reachable) {
  if (nodes_.size() <= 4096 + 4 * reachable) return;
  // Ids stay in creation order, so a parent is renumbered before its children.
  std::vector<char> keep(nodes_.size(), 0);
  for (const int* hypothesis : live) {
    for (int node = *hypothesis; node != kEmpty && !keep[node] && nodes_[node].depth > static_cast<int>(dropped_);
         node = nodes_[node].parent) {
      keep[node] = 1;
    }
  }
  std::vector<int> renumbered(nodes_.size(), kEmpty);
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!keep[i]) continue;
    Node node = nodes_[i];
    node.parent = node.parent == kEmpty ? kEmpty : renumbered[node.parent];
    node.depth -= static_cast<int>(dropped_);
    renumbered[i] = static_cast<int>(kept.size());
    kept.push_back(node);
  }
  for (int* hypothesis : live) *hypothesis = *hypothesis == kEmpty ? kEmpty : renumbered[*hypothesis];
  nodes_ = std::move(kept);
  dropped_ = 0;
}

}  // namespace nemo_fast
