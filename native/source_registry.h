// The table of source kinds: how each is probed (for `emp probe`) and how it is built from a
// spec. Adding a sensor means one new Source class and one row here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "roots.h"
#include "source.h"

namespace emp {

// What the caller asks of a source kind.
struct SourceSpec {
  std::string kind;
  double hz = 0;                    // 0: the sampler's rate, capped at the source's max_hz
  std::vector<std::string> select;  // channel names or event names to include; empty = all
  int pid = -1;                     // perf: the process to count (-1 = system-wide)
};

enum class SensorStatus { kAvailable, kPermissionDenied, kAbsent, kUnsupported };
[[nodiscard]] const char* SensorStatusName(SensorStatus status) noexcept;

// A probe's verdict on one source kind, with the channels it could read.
struct SensorReport {
  std::string kind;
  SensorStatus status = SensorStatus::kAbsent;
  std::string reason;  // why it is not available (empty when available)
  std::string fix;     // what the user can do about it
  std::vector<Channel> channels;
  std::vector<std::pair<std::string, std::string>> details;  // facts worth showing (vendor, unit)
};

// Settles a probe that found files and tried to read each: available when any channel could be
// read, else permission-denied (when a read was refused) or unsupported.
struct ProbeOutcome {
  bool denied;                // some read failed with EACCES or EPERM
  const char* denied_reason;  // "energy_uj exists but this process may not read it"
  const char* permission_fix;
  const char* unreadable_reason;  // the files exist but gave no value
  const char* unreadable_fix;
};
void SettleReport(SensorReport& report, const ProbeOutcome& outcome);

// Fills a report from the error that stopped a probe: its code picks the status (absent,
// permission-denied, else unsupported), its message and path the reason, its suggestion the fix.
void ReportFailure(SensorReport& report, const Error& error);

struct SourceKind {
  const char* kind;
  std::function<SensorReport(const Roots&)> probe;
  // Throws emp::Error with a code and a suggestion when the source cannot be built.
  std::function<std::unique_ptr<Source>(const Roots&, const SourceSpec&)> create;
  // The root its discovery starts from, named when a fault nobody anticipated stops it.
  std::string Roots::*root;
};

[[nodiscard]] const std::vector<SourceKind>& SourceKinds();
[[nodiscard]] const SourceKind* FindSourceKind(const std::string& kind);

// kind.probe, except that whatever it throws becomes that kind's report (absent, permission
// denied or unsupported, with the reason and the fix): one kind's fault never hides the others.
// Throws only if even that report cannot be built (out of memory).
[[nodiscard]] SensorReport ProbeKind(const SourceKind& kind, const Roots& roots);
// kind.create, except that an exception other than emp::Error becomes one naming the kind and its root.
[[nodiscard]] std::unique_ptr<Source> CreateKind(const SourceKind& kind, const Roots& roots, const SourceSpec& spec);

// True when `name` is in `select`, or `select` is empty (every channel).
[[nodiscard]] bool Selected(const std::vector<std::string>& select, const std::string& name);

}  // namespace emp
