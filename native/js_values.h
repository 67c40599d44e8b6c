// Small conversions between JS option objects and C++ values, shared by the binding classes.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "source.h"

namespace emp::js {

// Reads obj[key]; missing or undefined gives the fallback, a wrong type throws emp::Error.
[[nodiscard]] double Number(const Napi::Object& obj, const char* key, double fallback);
[[nodiscard]] std::string String(const Napi::Object& obj, const char* key, const std::string& fallback = {});
[[nodiscard]] bool Boolean(const Napi::Object& obj, const char* key, bool fallback);
[[nodiscard]] std::vector<std::string> StringList(const Napi::Object& obj, const char* key);

[[nodiscard]] Napi::Object ChannelToJs(Napi::Env env, const Channel& channel);

}  // namespace emp::js
