// The token sequences of a beam search's hypotheses, stored as a tree: a hypothesis is its last token's node,
// and extending it adds one node, so a beam of long hypotheses costs no copies. Nodes left behind by dropped
// hypotheses are reclaimed by Compact, and tokens taken away as finished segments leave the tree there too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nemo_fast {

class HypothesisPaths {
 public:
  static constexpr int kEmpty = -1;  // the node of a hypothesis without tokens

  struct Node {
    int parent;
    int token;
    int depth;  // tokens from the root, counting those already dropped
    int64_t frame;
    float confidence;
    int duration;  // frames the token spans (TDT's predicted duration; 1 otherwise)
  };

  // The node of `parent`'s path followed by `token`.
  int Extend(int parent, int token, int64_t frame, float confidence, int duration = 1);
  const Node& node(int id) const { return nodes_[id]; }
  // The nodes of a path after the dropped prefix, first to last.
  std::vector<int> Path(int node) const;
  // Forgets the first `count` tokens of every path (they must share them).
  void Drop(size_t count) { dropped_ += count; }
  // Keeps only the nodes the hypotheses `live` reach and renumbers them (updating `live`), when the tree has
  // grown well beyond what they can reach (`reachable`: an upper bound of their nodes).
  void MaybeCompact(std::vector<int*> live, size_t reachable);
  void Clear();

 private:
  std::vector<Node> nodes_;
  size_t dropped_ = 0;
};

}  // namespace nemo_fast
