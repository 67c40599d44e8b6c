#include "js_values.h"

#include "errors.h"

namespace emp::js {

namespace {
Error WrongType(const char* key, const char* expected) {
  return Error(ErrorCode::kInvalidArgument, std::string("option ") + key + " must be " + expected);
}
}  // namespace

double Number(const Napi::Object& obj, const char* key, double fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw WrongType(key, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string String(const Napi::Object& obj, const char* key, const std::string& fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw WrongType(key, "a string");
  return v.As<Napi::String>().Utf8Value();
}

bool Boolean(const Napi::Object& obj, const char* key, bool fallback) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw WrongType(key, "true or false");
  return v.As<Napi::Boolean>().Value();
}

std::vector<std::string> StringList(const Napi::Object& obj, const char* key) {
  std::vector<std::string> out;
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) throw WrongType(key, "an array of strings");
  Napi::Array array = v.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw WrongType(key, "an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

Napi::Object ChannelToJs(Napi::Env env, const Channel& c) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("name", c.name);
  obj.Set("domain", c.domain);
  obj.Set("quantity", c.quantity);
  obj.Set("unit", c.unit);
  obj.Set("scale", c.scale);
  obj.Set("wrap", static_cast<double>(c.wrap));
  obj.Set("counter", c.counter);
  obj.Set("signed", c.is_signed);
  obj.Set("origin", c.origin);
  return obj;
}

}  // namespace emp::js
