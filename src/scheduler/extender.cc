// Blocking HTTP(S) calls the way client/http_client.cc makes them: each call
// owns an io_context and runs Beast's asynchronous operations to completion
// on the calling thread, because tcp_stream's deadlines only apply to
// asynchronous operations. Unlike the API client there is no pool: an
// extender call is rare next to its own work, and a fresh connection never
// meets one the extender has half-closed.
#include "scheduler/extender.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <set>
#include <string_view>

namespace kennel::scheduler {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Extender::Transport {
  Status status;  // what makes every call fail, if anything
  bool tls = false;
  std::string host;  // without brackets: for resolving and verifying
  std::string port;
  std::string host_header;  // as the URL spells it
  std::string path;         // the URL's path without trailing '/'
  std::string verify_name;  // serverName, else host; empty: no verification
  std::shared_ptr<ssl::context> ctx;
};

namespace {

// A NodeList answer of a few thousand nodes is a few megabytes.
constexpr std::uint64_t kMaxAnswerBytes = 256ull << 20;

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string WithoutTrailingSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Splits "http[s]://host[:port][/path]" into t.
Status ParseUrl(const std::string& url, Extender::Transport* t);

// Go's encoding/json matches keys to field names case-insensitively,
// preferring an exact match; null reads as absent.
const json* GoField(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(name));
  if (it != obj.end()) return it->is_null() ? nullptr : &*it;
  for (auto kv = obj.begin(); kv != obj.end(); ++kv) {
    const std::string& key = kv.key();
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(key[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return kv->is_null() ? nullptr : &*kv;
  }
  return nullptr;
}

std::string NodeName(const json& node) {
  const json* metadata = GoField(node, "metadata");
  const json* name = metadata ? GoField(*metadata, "name") : nullptr;
  return name && name->is_string() ? name->get<std::string>() : std::string();
}

std::string Dump(const json& j) {
  // Replacing invalid UTF-8 instead of throwing: a body must always go out.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Runs one asynchronous operation to completion; the stream's deadline ends
// it with beast::error::timeout.
template <typename Start>
beast::error_code Run(asio::io_context& ioc, Start start) {
  beast::error_code result = asio::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// One request and its answer over a connected (and, for TLS, handshaken)
// stream.
template <typename Stream>
beast::error_code Exchange(asio::io_context& ioc, Stream& stream,
                           http::request<http::string_body>& req,
                           http::response_parser<http::string_body>& parser, const char** stage) {
  *stage = "sending the request";
  beast::error_code ec =
      Run(ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (ec) return ec;
  *stage = "reading the answer";
  beast::flat_buffer buffer;
  return Run(ioc,
             [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
}

Status ParseUrl(const std::string& url, Extender::Transport* t) {
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    t->tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Internal("extender urlPrefix must start with http:// or https://, got \"" + url + "\"");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t->path = slash == std::string::npos ? "" : WithoutTrailingSlashes(rest.substr(slash));
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  t->host_header = authority;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return Internal("bad IPv6 address in extender URL " + url);
    t->host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Internal("bad extender URL " + url);
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    t->host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (t->host.empty()) return Internal("extender URL has no host: " + url);
  if (port.empty()) port = t->tls ? "443" : "80";
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535) {
    return Internal("bad port in extender URL " + url);
  }
  t->port = port;
  return Status::Ok();
}

Status SetUpTls(const ExtenderConfig& c, Extender::Transport* t) {
  t->ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ssl::context& ctx = *t->ctx;
  beast::error_code ec;
  const bool has_ca = !c.ca_file.empty() || !c.ca_data.empty();
  // kube-scheduler sets insecure itself for enableHTTPS without a CA.
  if (c.insecure || (c.enable_https && !has_ca)) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    if (!c.ca_file.empty() && ctx.load_verify_file(c.ca_file, ec)) {
      return Internal("extender " + c.url_prefix + ": caFile " + c.ca_file + ": " + ec.message());
    }
    if (!c.ca_data.empty() && ctx.add_certificate_authority(asio::buffer(c.ca_data), ec)) {
      return Internal("extender " + c.url_prefix + ": caData: " + ec.message());
    }
    if (!has_ca && ctx.set_default_verify_paths(ec)) {
      return Internal("extender " + c.url_prefix + ": system CA certificates: " + ec.message());
    }
    ctx.set_verify_mode(ssl::verify_peer);
    t->verify_name = c.server_name.empty() ? t->host : c.server_name;
  }
  if (!c.cert_file.empty() && ctx.use_certificate_chain_file(c.cert_file, ec)) {
    return Internal("extender " + c.url_prefix + ": certFile " + c.cert_file + ": " + ec.message());
  }
  if (!c.cert_data.empty() && ctx.use_certificate_chain(asio::buffer(c.cert_data), ec)) {
    return Internal("extender " + c.url_prefix + ": certData: " + ec.message());
  }
  if (!c.key_file.empty() && ctx.use_private_key_file(c.key_file, ssl::context::pem, ec)) {
    return Internal("extender " + c.url_prefix + ": keyFile " + c.key_file + ": " + ec.message());
  }
  if (!c.key_data.empty() && ctx.use_private_key(asio::buffer(c.key_data), ssl::context::pem, ec)) {
    return Internal("extender " + c.url_prefix + ": keyData: " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Extender::Extender(ExtenderConfig config) : config_(std::move(config)) {
  // A zero deadline would fail every call at once; kube-scheduler's default.
  if (config_.http_timeout.count() <= 0) config_.http_timeout = std::chrono::seconds(5);
  auto t = std::make_shared<Transport>();
  try {
    t->status = ParseUrl(config_.url_prefix, t.get());
    if (t->status.ok() && t->tls) t->status = SetUpTls(config_, t.get());
  } catch (const std::exception& e) {
    t->status = Internal("extender " + config_.url_prefix + ": " + e.what());
  }
  transport_ = std::move(t);
}

Status Extender::status() const { return transport_->status; }

bool Extender::IsInterested(const json& pod) const {
  if (config_.managed_resources.empty()) return true;
  const std::set<std::string_view> managed(config_.managed_resources.begin(),
                                           config_.managed_resources.end());
  const json* spec = GoField(pod, "spec");
  if (spec == nullptr) return false;
  for (const char* list : {"containers", "initContainers"}) {
    const json* containers = GoField(*spec, list);
    if (containers == nullptr || !containers->is_array()) continue;
    for (const json& c : *containers) {
      const json* resources = GoField(c, "resources");
      if (resources == nullptr) continue;
      for (const char* kind : {"requests", "limits"}) {
        const json* amounts = GoField(*resources, kind);
        if (amounts == nullptr || !amounts->is_object()) continue;
        for (auto it = amounts->begin(); it != amounts->end(); ++it) {
          if (managed.count(it.key())) return true;
        }
      }
    }
  }
  return false;
}

std::string Extender::ArgsBody(const json& pod, const std::vector<const json*>& nodes) const {
  // Built as text: copying every Node into one json only to dump it would
  // double the work on large clusters.
  std::string body = "{\"Pod\":" + Dump(pod);
  if (config_.node_cache_capable) {
    json names = json::array();
    for (const json* n : nodes) names.push_back(NodeName(*n));
    body += ",\"Nodes\":null,\"NodeNames\":" + Dump(names) + "}";
  } else {
    body += ",\"Nodes\":{\"metadata\":{},\"items\":[";
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (i > 0) body += ',';
      body += Dump(*nodes[i]);
    }
    body += "]},\"NodeNames\":null}";
  }
  return body;
}

StatusOr<json> Extender::Post(const std::string& verb, const std::string& body) const {
  const Transport& t = *transport_;
  RETURN_IF_ERROR(t.status);
  const std::string url = WithoutTrailingSlashes(config_.url_prefix) + "/" + verb;
  const std::string who = "extender " + url;
  const auto deadline = Clock::now() + config_.http_timeout;
  auto transport_error = [&](const char* stage, const beast::error_code& ec) {
    if (ec == beast::error::timeout || ec == asio::error::timed_out) {
      return Unavailable(who + ": " + stage + ": no answer within " +
                         FormatDuration(config_.http_timeout));
    }
    return Unavailable(who + ": " + stage + ": " + ec.message());
  };

  try {
    // Declared before the io_context, so a resolution abandoned at the
    // deadline can never complete into them once they are gone.
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
    asio::io_context ioc;
    if (IsIpAddress(t.host)) {
      endpoints.emplace_back(asio::ip::make_address(t.host),
                             static_cast<uint16_t>(std::stoi(t.port)));
    } else {
      // Resolution has no deadline of its own: run the loop only until ours.
      // (A getaddrinfo still running then holds up the io_context's
      // destruction until it returns; there is no cancelling it.)
      tcp::resolver resolver(ioc);
      ec = asio::error::would_block;
      resolver.async_resolve(t.host, t.port,
                             [&](beast::error_code e, tcp::resolver::results_type r) {
                               ec = e;
                               for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                             });
      ioc.run_until(deadline);
      if (ec == asio::error::would_block) {
        resolver.cancel();
        return Unavailable(who + ": resolving " + t.host + ": no answer within " +
                           FormatDuration(config_.http_timeout));
      }
      if (ec) return Unavailable(who + ": resolving " + t.host + ": " + ec.message());
    }

    http::request<http::string_body> req{http::verb::post, t.path + "/" + verb, 11};
    req.set(http::field::host, t.host_header);
    req.set(http::field::user_agent, "kennel-scheduler");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(false);
    req.body() = body;
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    const char* stage = "connecting";

    if (t.tls) {
      beast::ssl_stream<beast::tcp_stream> stream(ioc, *t.ctx);
      auto& tcp_layer = beast::get_lowest_layer(stream);
      tcp_layer.expires_at(deadline);
      ec = Run(ioc, [&](auto h) { tcp_layer.async_connect(endpoints, std::move(h)); });
      if (ec) return transport_error(stage, ec);
      // SNI is for names only; an IP is checked against the IP SANs.
      const std::string& sni = config_.server_name.empty() ? t.host : config_.server_name;
      if (!IsIpAddress(sni)) SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str());
      if (!t.verify_name.empty()) {
        stream.set_verify_callback(ssl::host_name_verification(t.verify_name));
      }
      stage = "TLS handshake";
      ec =
          Run(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); });
      if (ec) return transport_error(stage, ec);
      ec = Exchange(ioc, stream, req, parser, &stage);
      tcp_layer.close();
    } else {
      beast::tcp_stream stream(ioc);
      stream.expires_at(deadline);
      ec = Run(ioc, [&](auto h) { stream.async_connect(endpoints, std::move(h)); });
      if (ec) return transport_error(stage, ec);
      ec = Exchange(ioc, stream, req, parser, &stage);
      stream.close();
    }
    if (ec) return transport_error(stage, ec);

    auto& res = parser.get();
    if (res.result_int() != 200) {
      std::string excerpt = res.body().substr(0, 200);
      return Internal(who + ": answered HTTP " + std::to_string(res.result_int()) +
                      (excerpt.empty() ? "" : ": " + excerpt));
    }
    try {
      return json::parse(res.body());
    } catch (const json::exception& e) {
      return Internal(who + ": answer is not JSON: " + e.what());
    }
  } catch (const std::exception& e) {
    return Internal(who + ": " + e.what());
  }
}

namespace {

// A FailedNodes-style map: node name → message (null is ""), only for
// nodes that were sent.
Status ReadFailedMap(const json* in, const std::set<std::string, std::less<>>& sent,
                     const std::string& who, const char* field,
                     std::map<std::string, std::string>* out) {
  if (in == nullptr) return Status::Ok();
  if (!in->is_object())
    return Internal(who + ": malformed answer: " + field + " must be an object");
  for (auto it = in->begin(); it != in->end(); ++it) {
    if (!it->is_string() && !it->is_null()) {
      return Internal(who + ": malformed answer: " + field + "[\"" + it.key() +
                      "\"] must be a string");
    }
    if (!sent.count(it.key())) continue;
    (*out)[it.key()] = it->is_string() ? it->get<std::string>() : std::string();
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ExtenderFilterResult> Extender::Filter(const json& pod,
                                                const std::vector<const json*>& nodes) const {
  ExtenderFilterResult result;
  std::set<std::string, std::less<>> sent;
  for (const json* n : nodes) sent.insert(NodeName(*n));
  if (!IsFilter()) {
    for (const json* n : nodes) result.feasible.push_back(NodeName(*n));
    return result;
  }
  ASSIGN_OR_RETURN(json answer, Post(config_.filter_verb, ArgsBody(pod, nodes)));
  const std::string who =
      "extender " + WithoutTrailingSlashes(config_.url_prefix) + "/" + config_.filter_verb;
  if (!answer.is_object()) return Internal(who + ": malformed answer: not an ExtenderFilterResult");
  if (const json* error = GoField(answer, "Error")) {
    if (!error->is_string()) return Internal(who + ": malformed answer: Error must be a string");
    if (!error->get<std::string>().empty()) return Internal(who + ": " + error->get<std::string>());
  }

  std::vector<std::string> names;
  const json* node_names = GoField(answer, "NodeNames");
  const json* node_list = GoField(answer, "Nodes");
  // kube-scheduler reads NodeNames from a nodeCacheCapable extender and Nodes
  // otherwise; an extender answering in the other form is understood too.
  if (node_names != nullptr && (config_.node_cache_capable || node_list == nullptr)) {
    if (!node_names->is_array()) {
      return Internal(who + ": malformed answer: NodeNames must be a list");
    }
    for (const json& n : *node_names) {
      if (!n.is_string()) {
        return Internal(who + ": malformed answer: NodeNames must be a list of strings");
      }
      names.push_back(n.get<std::string>());
    }
  } else if (node_list != nullptr) {
    const json* items = GoField(*node_list, "items");
    if (!node_list->is_object() || (items != nullptr && !items->is_array())) {
      return Internal(who + ": malformed answer: Nodes must be a NodeList");
    }
    if (items != nullptr) {
      for (const json& n : *items) {
        if (!n.is_object()) return Internal(who + ": malformed answer: Nodes.items must be Nodes");
        names.push_back(NodeName(n));
      }
    }
  }
  std::set<std::string> seen;
  for (auto& name : names) {
    if (sent.count(name) && seen.insert(name).second) result.feasible.push_back(std::move(name));
  }
  RETURN_IF_ERROR(
      ReadFailedMap(GoField(answer, "FailedNodes"), sent, who, "FailedNodes", &result.failed));
  RETURN_IF_ERROR(ReadFailedMap(GoField(answer, "FailedAndUnresolvableNodes"), sent, who,
                                "FailedAndUnresolvableNodes", &result.failed_unresolvable));
  for (const auto& [name, reason] : result.failed_unresolvable) result.failed.erase(name);
  return result;
}

StatusOr<std::map<std::string, int64_t>> Extender::Prioritize(
    const json& pod, const std::vector<const json*>& nodes) const {
  std::map<std::string, int64_t> scores;
  if (!IsPrioritizer()) {
    for (const json* n : nodes) scores[NodeName(*n)] = 0;
    return scores;
  }
  std::set<std::string, std::less<>> sent;
  for (const json* n : nodes) sent.insert(NodeName(*n));
  ASSIGN_OR_RETURN(json answer, Post(config_.prioritize_verb, ArgsBody(pod, nodes)));
  const std::string who =
      "extender " + WithoutTrailingSlashes(config_.url_prefix) + "/" + config_.prioritize_verb;
  if (answer.is_null()) return scores;
  if (!answer.is_array()) return Internal(who + ": malformed answer: not a HostPriorityList");
  const int64_t scale = config_.weight * (kMaxNodeScore / kMaxExtenderPriority);
  for (const json& entry : answer) {
    const json* host = GoField(entry, "Host");
    const json* score = GoField(entry, "Score");
    if (!entry.is_object() || (host != nullptr && !host->is_string()) ||
        (score != nullptr && !score->is_number_integer())) {
      return Internal(who + ": malformed answer: entries must be {\"Host\": string, " +
                      "\"Score\": integer}");
    }
    std::string name = host ? host->get<std::string>() : std::string();
    if (!sent.count(name)) continue;
    int64_t value = score ? score->get<int64_t>() : 0;
    int64_t scaled = 0;
    if (__builtin_mul_overflow(value, scale, &scaled) ||
        __builtin_add_overflow(scores[name], scaled, &scores[name])) {
      return Internal(who + ": malformed answer: score " + std::to_string(value) + " for " + name +
                      " is out of range");
    }
  }
  return scores;
}

Status Extender::Bind(const std::string& ns, const std::string& name, const std::string& uid,
                      const std::string& node) const {
  if (!IsBinder()) {
    return Internal("extender " + config_.url_prefix + " has no bindVerb but was asked to bind");
  }
  json args = {{"PodName", name}, {"PodNamespace", ns}, {"PodUID", uid}, {"Node", node}};
  ASSIGN_OR_RETURN(json answer, Post(config_.bind_verb, Dump(args)));
  const std::string who =
      "extender " + WithoutTrailingSlashes(config_.url_prefix) + "/" + config_.bind_verb;
  if (answer.is_null()) return Status::Ok();
  if (!answer.is_object())
    return Internal(who + ": malformed answer: not an ExtenderBindingResult");
  if (const json* error = GoField(answer, "Error")) {
    if (!error->is_string()) return Internal(who + ": malformed answer: Error must be a string");
    if (!error->get<std::string>().empty()) return Internal(who + ": " + error->get<std::string>());
  }
  return Status::Ok();
}

}  // namespace kennel::scheduler
