// Text for messages and probe details: register addresses in hex, scales without rounding.
#pragma once

#include <cstdint>
#include <string>

namespace emp {

// "0x611", "0xc001029b", as the kernel writes hex in sysfs.
[[nodiscard]] std::string HexString(uint64_t value);
// Shortest text that reads back to the same double ("6.103515625e-05").
[[nodiscard]] std::string ExactNumber(double value);

}  // namespace emp
