// Text for messages and probe details: register addresses in hex, scales without rounding.
#pragma once

#include <cstdint>
#include <string>

namespace emp {

// "0x611", "0xc001029b", as the kernel writes hex in sysfs.
[[nodiscard]] std::string HexString(uint64_t value);
// Shortest text that reads back to the same double ("6.103515625e-05").
[[nodiscard]] std::string ExactNumber(double value);
// A file's content fit for a one-line message: bytes outside printable ASCII as \xNN, cut after
// 40 characters with "...", so a corrupt or huge sensor file cannot flood the probe's reason.
[[nodiscard]] std::string Excerpt(const std::string& text);

}  // namespace emp
