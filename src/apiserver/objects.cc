#include "apiserver/objects.h"

#include <random>

namespace kennel::apiserver {

std::string ObjectKey(const api::ResourceInfo& info, const std::string& ns,
                      const std::string& name) {
  if (!info.namespaced) return "/registry/" + info.GroupResource() + "/" + name;
  return "/registry/" + info.GroupResource() + "/" + ns + "/" + name;
}

std::string ListPrefix(const api::ResourceInfo& info, const std::string& ns) {
  if (!info.namespaced || ns.empty()) return "/registry/" + info.GroupResource() + "/";
  return "/registry/" + info.GroupResource() + "/" + ns + "/";
}

std::string EncodeForStore(nlohmann::json object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("resourceVersion");
  }
  return object.dump();
}

StatusOr<nlohmann::json> DecodeFromStore(const std::string& value, int64_t revision) {
  nlohmann::json obj = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded() || !obj.is_object()) return Internal("corrupt object in the store");
  obj["metadata"]["resourceVersion"] = std::to_string(revision);
  return obj;
}

StatusOr<nlohmann::json> DecodeFromStore(const store::KeyValue& kv) {
  return DecodeFromStore(kv.value, kv.mod_revision);
}

namespace {

constexpr std::string_view kResourceVersionKey = "resourceVersion";

void AppendMember(std::string* out, bool* has_member, const std::string& key,
                  const nlohmann::json& value) {
  if (*has_member) *out += ',';
  *out += nlohmann::json(key).dump();
  *out += ':';
  *out += value.dump();
  *has_member = true;
}

}  // namespace

StoredText::StoredText(const nlohmann::json& object) {
  auto meta = object.find("metadata");
  if (!object.is_object() || meta == object.end() || !meta->is_object()) {
    fallback_ = object;  // no metadata object: no resourceVersion to leave out or add
    return;
  }
  spliced_ = true;
  // nlohmann's objects are sorted maps and its compact dump is
  // "{" member("," member)* "}": the same text, assembled in two halves.
  head_ = "{";
  bool top_has_member = false;
  bool after_metadata = false;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (it.key() == "metadata") {
      if (top_has_member) head_ += ',';
      head_ += "\"metadata\":{";
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (m.key() == kResourceVersionKey) continue;
        if (m.key() < kResourceVersionKey) {
          AppendMember(&head_, &head_has_member_, m.key(), *m);
        } else {
          AppendMember(&tail_, &tail_has_member_, m.key(), *m);
        }
      }
      tail_ += '}';
      top_has_member = true;
      after_metadata = true;
      continue;
    }
    if (after_metadata) {
      bool has = true;  // metadata precedes: always a comma
      AppendMember(&tail_, &has, it.key(), *it);
    } else {
      AppendMember(&head_, &top_has_member, it.key(), *it);
    }
  }
  tail_ += '}';
}

std::string StoredText::Stored() const {
  if (!spliced_) return fallback_.dump();
  std::string out;
  out.reserve(head_.size() + tail_.size() + 1);
  out += head_;
  if (head_has_member_ && tail_has_member_) out += ',';
  out += tail_;
  return out;
}

std::string StoredText::WithResourceVersion(int64_t revision) const {
  if (!spliced_) return fallback_.dump();
  std::string out;
  out.reserve(head_.size() + tail_.size() + 48);
  out += head_;
  if (head_has_member_) out += ',';
  out += "\"resourceVersion\":\"";
  out += std::to_string(revision);
  out += '"';
  if (tail_has_member_) out += ',';
  out += tail_;
  return out;
}

namespace {
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}
}  // namespace

std::string NewUid() {
  uint64_t a = Rng()(), b = Rng()();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[Rng()() % (sizeof(kAlphabet) - 1)];
  return out;
}

nlohmann::json SpecPart(const nlohmann::json& object) {
  nlohmann::json spec = object;
  for (const char* k : {"metadata", "status", "apiVersion", "kind"}) spec.erase(k);
  return spec;
}

}  // namespace kennel::apiserver
