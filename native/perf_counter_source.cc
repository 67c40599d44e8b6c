#include "perf_counter_source.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "errors.h"
#include "sysfs.h"

namespace emp {

namespace {
Channel ChannelFor(const PerfEventDef& def, bool system_wide, const std::string& origin) {
  Channel c;
  c.name = def.name;
  c.domain = system_wide ? "system" : "process";
  c.quantity = def.counts_ns ? "time" : "count";
  c.unit = def.counts_ns ? "ns" : "count";
  c.scale = def.counts_ns ? 1e-9 : 1.0;
  c.wrap = 0;  // 64-bit in the kernel
  c.counter = true;
  c.origin = origin;
  return c;
}

std::string CpuListText(const std::vector<int>& cpus) {
  std::string text;
  for (int cpu : cpus) text += (text.empty() ? "" : ",") + std::to_string(cpu);
  return text;
}

SensorStatus StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kPermission: return SensorStatus::kPermissionDenied;
    case ErrorCode::kAbsent: return SensorStatus::kAbsent;
    default: return SensorStatus::kUnsupported;
  }
}
}  // namespace

SensorReport PerfCounterSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "perf";
  const std::vector<int> cpus = sysfs::OnlineCpus(roots.sysfs);
  const PerfTarget self{.pid = 0, .cpu = -1, .inherit = true};
  const PerfTarget cpu_wide{.pid = -1, .cpu = cpus.empty() ? 0 : cpus.front()};

  std::vector<std::string> failures;
  bool any_permission = false;
  std::string fix;
  for (const PerfEventDef& def : PerfEventTable()) {
    UniqueFd fd;
    // Per process is what `emp measure` needs; system-wide additionally needs paranoid <= 0.
    const int err = PerfEvent::TryOpen(def, self, &fd);
    if (err != 0) {
      const Error error = PerfEvent::ErrorFor(def, self, err);
      any_permission |= error.code() == ErrorCode::kPermission;
      if (fix.empty() || error.code() == ErrorCode::kPermission) fix = error.suggestion();
      report.details.emplace_back(def.name,
                                  std::string(SensorStatusName(StatusFor(error.code()))) + ": " + error.what());
      failures.push_back(std::string(def.name) + " (" + SensorStatusName(StatusFor(error.code())) + ")");
      continue;
    }
    UniqueFd wide;
    const int wide_err = PerfEvent::TryOpen(def, cpu_wide, &wide);
    std::string detail = "available: per process";
    if (wide_err == 0) {
      detail += " and system-wide";
    } else {
      detail += "; not system-wide: " + std::string(PerfEvent::ErrorFor(def, cpu_wide, wide_err).what());
    }
    report.details.emplace_back(def.name, detail);
    report.channels.push_back(ChannelFor(def, false, std::string("perf_event_open(") + def.name + ")"));
  }

  if (!report.channels.empty()) {
    report.status = SensorStatus::kAvailable;
  } else {
    report.status = any_permission ? SensorStatus::kPermissionDenied : SensorStatus::kUnsupported;
  }
  if (!failures.empty()) {
    std::string names;
    for (const auto& f : failures) names += (names.empty() ? "" : ", ") + f;
    // Name the first failure's cause; the per-event details carry each one's own.
    std::string cause;
    for (const auto& [name, detail] : report.details) {
      if (detail.rfind("available", 0) != 0) {
        cause = detail;
        break;
      }
    }
    report.reason = "cannot open " + names + "; " + cause;
    report.fix = fix;
  }
  return report;
}

std::unique_ptr<Source> PerfCounterSource::Create(const Roots& roots, const SourceSpec& spec) {
  std::vector<const PerfEventDef*> wanted;
  if (spec.select.empty()) {
    for (const auto& def : PerfEventTable()) wanted.push_back(&def);
  } else {
    for (const auto& name : spec.select) {
      const PerfEventDef* def = FindPerfEvent(name);
      if (def == nullptr) {
        throw Error(ErrorCode::kInvalidArgument, "unknown perf event: " + name, 0, {},
                    "choose from: " + PerfEventNames());
      }
      wanted.push_back(def);
    }
  }

  const bool system_wide = spec.pid < 0;
  std::vector<PerfTarget> targets;
  std::string where;
  if (system_wide) {
    const std::vector<int> cpus = sysfs::OnlineCpus(roots.sysfs);
    if (cpus.empty()) {
      throw Error(ErrorCode::kAbsent, "no online CPU listed", 0, roots.sysfs + "/devices/system/cpu/online");
    }
    for (int cpu : cpus) targets.push_back({.pid = -1, .cpu = cpu});
    where = " on cpus " + CpuListText(cpus);
  } else {
    targets.push_back({.pid = spec.pid, .cpu = -1, .inherit = true});
    where = " for pid " + std::to_string(spec.pid) + " and its children";
  }

  // Which events open on every target; an event asked for by name that does not, throws.
  std::vector<const PerfEventDef*> opened;
  std::vector<Channel> channels;
  for (const PerfEventDef* def : wanted) {
    int err = 0;
    const PerfTarget* failed = nullptr;
    for (const PerfTarget& target : targets) {
      UniqueFd trial;
      err = PerfEvent::TryOpen(*def, target, &trial);
      if (err != 0) {
        failed = &target;
        break;
      }
    }
    if (err != 0) {
      const Error error = PerfEvent::ErrorFor(*def, *failed, err);
      // Asked for everything: leave out what this machine lacks, but never a permission problem.
      if (spec.select.empty() && error.code() == ErrorCode::kUnsupported) continue;
      throw error;
    }
    opened.push_back(def);
    channels.push_back(ChannelFor(*def, system_wide, std::string("perf_event_open(") + def->name + ")" + where));
  }
  if (channels.empty()) {
    throw Error(ErrorCode::kUnsupported, "no perf event could be opened" + where, 0, {},
                "see `emp probe` for each event's status");
  }

  PerfCounters counters;
  if (!system_wide) {
    for (size_t c = 0; c < opened.size(); ++c) {
      counters.events.push_back(PerfEvent::Open(*opened[c], targets.front()));
      counters.members.push_back({c, 0});
    }
  } else {
    // Per CPU, software and hardware events in groups of their own, so that a PMU that is busy
    // elsewhere never stops the software counts; a hardware event the PMU cannot count together
    // with the others (EINVAL) starts another group.
    std::vector<std::vector<size_t>> channel_of;  // per group, the channel of each member
    for (const PerfTarget& target : targets) {
      size_t current[2] = {SIZE_MAX, SIZE_MAX};  // this CPU's open software and hardware group
      for (size_t c = 0; c < opened.size(); ++c) {
        size_t& g = current[opened[c]->hardware() ? 1 : 0];
        int err = g == SIZE_MAX ? EINVAL : counters.groups[g].TryAdd(*opened[c]);
        if (err == EINVAL) {
          counters.groups.emplace_back(target);
          channel_of.emplace_back();
          g = counters.groups.size() - 1;
          err = counters.groups[g].TryAdd(*opened[c]);
        }
        if (err != 0) throw PerfEvent::ErrorFor(*opened[c], target, err);
        channel_of[g].push_back(c);
      }
    }
    for (const auto& members : channel_of) {
      for (size_t c : members) counters.members.push_back({c, 0});
    }
  }
  return std::unique_ptr<Source>(new PerfCounterSource(std::move(channels), std::move(counters)));
}

PerfCounterSource::PerfCounterSource(std::vector<Channel> channels, PerfCounters counters)
    : channels_(std::move(channels)), counters_(std::move(counters)) {}

bool PerfCounterSource::Read(uint64_t* out) noexcept {
  std::fill(out, out + channels_.size(), uint64_t{0});
  bool ok = true;
  size_t m = 0;
  // A failed read keeps the fd's last count in the sum, so the channel never steps back.
  auto add = [&](bool read, const PerfReading& reading) {
    PerfCounters::Member& member = counters_.members[m++];
    if (read) member.last_scaled = std::max(member.last_scaled, reading.Scaled());
    out[member.channel] += member.last_scaled;
  };
  for (const auto& event : counters_.events) {
    const bool read = event->Read(&readings_[0]);
    ok &= read;
    add(read, readings_[0]);
  }
  for (const PerfGroup& group : counters_.groups) {
    const bool read = group.Read(readings_.data());
    ok &= read;
    for (size_t j = 0; j < group.size(); ++j) add(read, readings_[j]);
  }
  return ok;
}

}  // namespace emp
