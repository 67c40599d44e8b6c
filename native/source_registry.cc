#include "source_registry.h"

#include <algorithm>

#include "nvml_source.h"
#include "perf_counter_source.h"
#include "perf_power_source.h"
#include "powercap_source.h"
#include "rapl_msr_source.h"
#include "thermal_source.h"

namespace emp {

const char* SensorStatusName(SensorStatus status) noexcept {
  switch (status) {
    case SensorStatus::kAvailable: return "available";
    case SensorStatus::kPermissionDenied: return "permission-denied";
    case SensorStatus::kAbsent: return "absent";
    case SensorStatus::kUnsupported: return "unsupported";
  }
  return "absent";
}

void SettleReport(SensorReport& report, const ProbeOutcome& outcome) {
  if (!report.channels.empty()) {
    report.status = SensorStatus::kAvailable;
  } else if (outcome.denied) {
    report.status = SensorStatus::kPermissionDenied;
    report.reason = outcome.denied_reason;
    report.fix = outcome.permission_fix;
  } else {
    report.status = SensorStatus::kUnsupported;
    report.reason = outcome.unreadable_reason;
    report.fix = outcome.unreadable_fix;
  }
}

void ReportFailure(SensorReport& report, const Error& error) {
  switch (error.code()) {
    case ErrorCode::kAbsent: report.status = SensorStatus::kAbsent; break;
    case ErrorCode::kPermission: report.status = SensorStatus::kPermissionDenied; break;
    default: report.status = SensorStatus::kUnsupported; break;
  }
  report.reason = error.what();
  if (!error.path().empty() && report.reason.find(error.path()) == std::string::npos) {
    report.reason += " (" + error.path() + ")";
  }
  report.fix = error.suggestion();
}

const std::vector<SourceKind>& SourceKinds() {
  static const std::vector<SourceKind> kinds = {
      {"powercap", PowercapSource::Probe, PowercapSource::Create},
      {"nvml", NvmlSource::Probe, NvmlSource::Create},
      {"perf", PerfCounterSource::Probe, PerfCounterSource::Create},
      {"msr", RaplMsrSource::Probe, RaplMsrSource::Create},
      {"perf-power", PerfPowerSource::Probe, PerfPowerSource::Create},
      {"thermal", ThermalSource::Probe, ThermalSource::Create},
  };
  return kinds;
}

const SourceKind* FindSourceKind(const std::string& kind) {
  for (const auto& k : SourceKinds()) {
    if (kind == k.kind) return &k;
  }
  return nullptr;
}

bool Selected(const std::vector<std::string>& select, const std::string& name) {
  return select.empty() || std::find(select.begin(), select.end(), name) != select.end();
}

}  // namespace emp
