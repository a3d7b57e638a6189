#include "api/protobuf.h"

#include <exception>
#include <string>
#include <utility>

#include "api/internal/proto_json.h"
#include "api/internal/proto_schema.h"
#include "api/internal/proto_wire.h"

namespace kennel::api {
namespace {

using internal::WireField;
using internal::WireReader;
using internal::WireType;

constexpr std::string_view kMagic("k8s\0", 4);

// The fields of runtime.Unknown that matter here.
struct Envelope {
  std::string api_version;
  std::string kind;
  std::string_view raw;
  std::string content_encoding;
  std::string content_type;
};

Status ReadEnvelopeString(const WireField& w, const char* name, std::string* out) {
  if (w.type != WireType::kLengthDelimited || !internal::IsValidUtf8(w.bytes)) {
    return BadRequest(std::string("protobuf: malformed ") + name + " in the object envelope");
  }
  out->assign(w.bytes);
  return Status::Ok();
}

Status ReadTypeMeta(std::string_view bytes, Envelope* env) {
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(reader.Next(&w));
    if (w.number == 1) RETURN_IF_ERROR(ReadEnvelopeString(w, "apiVersion", &env->api_version));
    if (w.number == 2) RETURN_IF_ERROR(ReadEnvelopeString(w, "kind", &env->kind));
  }
  return Status::Ok();
}

StatusOr<Envelope> ReadEnvelope(std::string_view bytes) {
  Envelope env;
  WireReader reader(bytes);
  while (!reader.done()) {
    WireField w;
    RETURN_IF_ERROR(reader.Next(&w));
    if (w.number >= 1 && w.number <= 4 && w.type != WireType::kLengthDelimited) {
      return BadRequest("protobuf: malformed object envelope (runtime.Unknown)");
    }
    switch (w.number) {
      case 1:
        RETURN_IF_ERROR(ReadTypeMeta(w.bytes, &env));
        break;
      case 2:
        env.raw = w.bytes;
        break;
      case 3:
        RETURN_IF_ERROR(ReadEnvelopeString(w, "contentEncoding", &env.content_encoding));
        break;
      case 4:
        RETURN_IF_ERROR(ReadEnvelopeString(w, "contentType", &env.content_type));
        break;
      default:
        break;
    }
  }
  if (env.api_version.empty() || env.kind.empty()) {
    return BadRequest("protobuf: object envelope has no apiVersion or kind");
  }
  return env;
}

StatusOr<nlohmann::json> Decode(std::string_view body) {
  if (body.substr(0, kMagic.size()) != kMagic) {
    return BadRequest("protobuf: body does not start with the Kubernetes \"k8s\\0\" prefix");
  }
  ASSIGN_OR_RETURN(Envelope env, ReadEnvelope(body.substr(kMagic.size())));
  const std::string what = env.kind + " (" + env.api_version + ")";
  if (!env.content_encoding.empty()) {
    return UnsupportedMediaType("protobuf: content encoding \"" + env.content_encoding + "\" of " +
                                what + " is not supported");
  }
  if (!env.content_type.empty() && env.content_type != kProtobufContentType) {
    return UnsupportedMediaType("protobuf: raw content type \"" + env.content_type + "\" of " +
                                what + " is not supported");
  }
  const internal::MessageSpec* spec = internal::FindObjectSchema(env.api_version, env.kind);
  if (spec == nullptr) {
    return UnsupportedMediaType("the server cannot decode " + what + " from " +
                                std::string(kProtobufContentType) + "; send it as JSON instead " +
                                "(e.g. kubectl create ... --dry-run=client -o yaml | " +
                                "kubectl create -f -)");
  }
  ASSIGN_OR_RETURN(nlohmann::json object, internal::DecodeMessageToJson(env.raw, *spec));
  object["apiVersion"] = std::move(env.api_version);
  object["kind"] = std::move(env.kind);
  return object;
}

}  // namespace

StatusOr<nlohmann::json> DecodeKubernetesProtobuf(std::string_view body) {
  try {
    return Decode(body);
  } catch (const std::exception& e) {
    // Only allocation failure can get here; it must still not escape.
    return Internal(std::string("protobuf: decoding failed: ") + e.what());
  }
}

}  // namespace kennel::api
