#include "apiserver/node_proxy.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

namespace kennel::apiserver {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using nlohmann::json;
using tcp = asio::ip::tcp;

// GETs an object through the handler: the same errors a client would get.
asio::awaitable<StatusOr<json>> GetObject(Handler* handler, std::string path) {
  ApiRequest req;
  req.method = "GET";
  req.path = std::move(path);
  req.accept = "application/json";
  ApiResponse r = co_await handler->Handle(std::move(req));
  json body = json::parse(r.body, nullptr, false);
  if (r.code != 200) {
    std::string message = body.is_object() ? body.value("message", r.body) : r.body;
    Code code = r.code == 404 ? Code::kNotFound : Code::kInternal;
    co_return Status(code, message);
  }
  if (!body.is_object()) co_return Internal("unreadable object at " + req.path);
  co_return body;
}

std::vector<std::string> ContainerNames(const json& pod) {
  std::vector<std::string> names;
  const json spec = pod.value("spec", json::object());
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const json& c : spec[list]) names.push_back(c.value("name", ""));
  }
  return names;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Copies bytes one way until EOF or error, then shuts both sides.
template <class From, class To>
asio::awaitable<void> Pipe(From& from, To& to, std::shared_ptr<bool> over) {
  char buf[16384];
  beast::error_code ec;
  while (!*over) {
    size_t n = co_await from.async_read_some(asio::buffer(buf),
                                             asio::redirect_error(asio::use_awaitable, ec));
    if (n > 0) {
      co_await asio::async_write(to, asio::buffer(buf, n),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) break;
  }
  *over = true;
  beast::error_code ignored;
  beast::get_lowest_layer(from).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(to).socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> WriteError(TlsStream& client, const Status& status) {
  ApiResponse r = ErrorResponse(status);
  http::response<http::string_body> res{static_cast<http::status>(r.code), 11};
  res.set(http::field::content_type, r.content_type);
  res.keep_alive(false);
  res.body() = r.body;
  res.prepare_payload();
  beast::error_code ec;
  co_await http::async_write(client, res, asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

bool IsNodeProxied(const RequestInfo& info) {
  return info.group.empty() && info.resource == "pods" &&
         (info.subresource == "log" || info.subresource == "exec" || info.subresource == "attach");
}

asio::awaitable<StatusOr<NodeTarget>> ResolveNodeTarget(Handler* handler, RequestInfo info,
                                                        Query query, std::string raw_query) {
  std::string pod_path = "/api/v1/namespaces/" + info.namespace_ + "/pods/" + info.name;
  auto pod = co_await GetObject(handler, pod_path);
  if (!pod.ok()) co_return pod.status();
  std::vector<std::string> names = ContainerNames(*pod);
  std::string container = QueryValue(query, "container");
  if (container.empty()) {
    // Kubernetes picks the only app container; with several the client must say.
    const json apps = pod->value("spec", json::object()).value("containers", json::array());
    if (apps.size() != 1) {
      co_return BadRequest("a container name must be specified for pod " + info.name +
                           ", choose one of: [" + Joined(names) + "]");
    }
    container = apps[0].value("name", "");
  } else if (std::find(names.begin(), names.end(), container) == names.end()) {
    co_return BadRequest("container " + container + " is not valid for pod " + info.name);
  }
  std::string node_name = pod->value("spec", json::object()).value("nodeName", "");
  if (node_name.empty()) {
    co_return BadRequest("pod " + info.name + " does not have a host assigned");
  }
  auto node = co_await GetObject(handler, "/api/v1/nodes/" + node_name);
  if (!node.ok())
    co_return Status(Code::kInternal, "node " + node_name + ": " + node.status().message());
  const json status = node->value("status", json::object());
  NodeTarget t;
  for (const json& a : status.value("addresses", json::array())) {
    if (a.value("type", "") == "InternalIP") t.host = a.value("address", "");
  }
  t.port = status.value("daemonEndpoints", json::object())
               .value("kubeletEndpoint", json::object())
               .value("Port", 0);
  if (t.host.empty() || t.port == 0) {
    co_return Status(Code::kUnavailable,
                     "node " + node_name + " publishes no agent endpoint (is its agent running?)");
  }
  std::string kind = info.subresource == "log" ? "containerLogs" : info.subresource;
  t.target = "/" + kind + "/" + info.namespace_ + "/" + info.name + "/" + container;
  if (!raw_query.empty()) t.target += "?" + raw_query;
  co_return t;
}

asio::awaitable<void> ProxyToNode(TlsStream& client, const http::request<http::string_body>& req,
                                  NodeTarget target, std::string token, ssl::context* client_tls) {
  auto ex = co_await asio::this_coro::executor;
  beast::error_code ec;
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(target.host, std::to_string(target.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  TlsStream agent(ex, *client_tls);
  if (!ec) {
    beast::get_lowest_layer(agent).expires_after(std::chrono::seconds(10));
    co_await beast::get_lowest_layer(agent).async_connect(
        endpoints, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) {
    co_await agent.async_handshake(ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    Status st(Code::kUnavailable, "cannot reach the agent at " + target.host + ":" +
                                      std::to_string(target.port) + ": " + ec.message());
    co_await WriteError(client, st);
    co_return;
  }
  beast::get_lowest_layer(agent).expires_never();

  http::request<http::empty_body> out{req.method(), target.target, 11};
  out.set(http::field::host, target.host + ":" + std::to_string(target.port));
  out.set(http::field::authorization, "Bearer " + token);
  for (auto f : {http::field::connection, http::field::upgrade, http::field::sec_websocket_key,
                 http::field::sec_websocket_version, http::field::sec_websocket_protocol}) {
    if (auto it = req.find(f); it != req.end()) out.set(f, it->value());
  }
  co_await http::async_write(agent, out, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  // Not boost::none: Boost 1.74 compares a Content-Length with an empty
  // optional as "over the limit".
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(agent, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_await WriteError(client, Status(Code::kUnavailable, "the agent hung up: " + ec.message()));
    co_return;
  }
  const int code = parser.get().result_int();
  if (code == 101) {
    // Upgraded: pass the answer on, then bytes both ways until either side ends.
    http::response<http::empty_body> up{http::status::switching_protocols, 11};
    for (const auto& field : parser.get()) up.set(field.name_string(), field.value());
    http::response_serializer<http::empty_body> sr{up};
    co_await http::async_write_header(client, sr, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (buffer.size() > 0) {
      co_await asio::async_write(client, buffer.data(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      buffer.consume(buffer.size());
    }
    beast::get_lowest_layer(client).expires_never();
    auto over = std::make_shared<bool>(false);
    auto done = std::make_shared<int>(0);
    asio::steady_timer both(ex, asio::steady_timer::time_point::max());
    auto finished = [done, &both](std::exception_ptr) {
      if (++*done == 2) both.cancel();
    };
    asio::co_spawn(ex, Pipe(agent, client, over), finished);
    asio::co_spawn(ex, Pipe(client, agent, over), finished);
    co_await both.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  if (code != 200) {
    co_await http::async_read(agent, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    std::string message = parser.get().body();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    Code mapped = code == 404 || code == 400 ? Code::kBadRequest : Code::kInternal;
    co_await WriteError(
        client,
        Status(mapped, message.empty() ? "agent answered " + std::to_string(code) : message));
    co_return;
  }
  // A log: relayed piece by piece, as the agent sends it (follow streams).
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain");
  res.chunked(true);
  res.keep_alive(false);
  http::response_serializer<http::empty_body> sr{res};
  co_await http::async_write_header(client, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::get_lowest_layer(client).expires_never();
  std::string pending;
  auto on_chunk = [&](uint64_t, beast::string_view piece, beast::error_code&) -> size_t {
    pending.append(piece.data(), piece.size());
    return piece.size();
  };
  parser.on_chunk_body(on_chunk);
  while (!parser.is_done()) {
    co_await http::async_read_some(agent, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (!pending.empty()) {
      beast::error_code wec;
      co_await asio::async_write(client, http::make_chunk(asio::buffer(pending)),
                                 asio::redirect_error(asio::use_awaitable, wec));
      pending.clear();
      if (wec) co_return;
    }
    if (ec) break;
  }
  co_await asio::async_write(client, http::make_chunk_last(),
                             asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace kennel::apiserver
