#include "nemo_fast/common/interrupt.h"

#include <atomic>

namespace nemo_fast {
namespace {
std::atomic<InterruptCheck> installed_check{nullptr};
}  // namespace

void SetInterruptCheck(InterruptCheck check) { installed_check.store(check, std::memory_order_release); }

void ThrowIfInterrupted() {
  if (InterruptCheck check = installed_check.load(std::memory_order_acquire)) check();
}

}  // namespace nemo_fast
