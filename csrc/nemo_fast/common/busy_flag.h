// Detects overlapping use of an object meant for one thread at a time (a stream): a second, simultaneous
// user is refused with kStreamBusy instead of racing with the first and corrupting its state.
#pragma once

#include <atomic>

#include "nemo_fast/common/error.h"

namespace nemo_fast {

class BusyFlag {
 public:
  bool TryAcquire() const { return !busy_.exchange(true, std::memory_order_acquire); }
  void Release() const { busy_.store(false, std::memory_order_release); }

 private:
  mutable std::atomic<bool> busy_{false};
};

// Holds a BusyFlag for one call; throws kStreamBusy when another call holds it.
class BusyScope {
 public:
  explicit BusyScope(const BusyFlag& flag) : flag_(flag) {
    if (!flag_.TryAcquire()) {
      Fail(ErrorCode::kStreamBusy,
           "the stream is in use by another call (another thread) at this moment; "
           "a stream belongs to one thread at a time");
    }
  }
  ~BusyScope() { flag_.Release(); }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  const BusyFlag& flag_;
};

}  // namespace nemo_fast
