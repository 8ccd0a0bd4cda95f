// A hook through which a host (the Python bindings) lets long calls stop between two chunks, e.g. on Ctrl-C
// while the GIL is released. The check throws whatever the host wants raised; streams stay consistent
// because it is only called where no chunk is half decoded.
#pragma once

namespace nemo_fast {

using InterruptCheck = void (*)();

// Installs the check (nullptr: none).
void SetInterruptCheck(InterruptCheck check);
// Runs the installed check, if any.
void ThrowIfInterrupted();

}  // namespace nemo_fast
