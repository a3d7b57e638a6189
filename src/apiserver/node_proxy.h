// pods/log and pods/exec: the API server finds the pod's node and proxies the
// request to that node's agent (its HTTPS endpoint in the Node's
// status.daemonEndpoints), as kube-apiserver does with kubelets. A log is
// streamed back as it comes; an exec's WebSocket upgrade is passed through
// and then bytes are copied both ways, so the WebSocket session runs end to
// end between kubectl and the agent.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/awaitable.hpp>
// clang-format on
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <string>

#include "apiserver/handler.h"
#include "apiserver/request_info.h"

namespace kennel::apiserver {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// True for the subresources served by the pod's node.
bool IsNodeProxied(const RequestInfo& info);

struct NodeTarget {
  std::string host;
  uint16_t port = 0;
  std::string target;  // "/containerLogs/ns/pod/c?…" or "/exec/ns/pod/c?…"
};

// Finds where to send the request: the pod (404 if missing), its container
// (the only one by default; 400 naming the choices otherwise), its node and
// the node's agent endpoint. raw_query is passed on untouched.
boost::asio::awaitable<StatusOr<NodeTarget>> ResolveNodeTarget(Handler* handler, RequestInfo info,
                                                               Query query, std::string raw_query);

// Sends req to the agent at target (bearer token, no certificate check) and
// relays its answer to client. Returns when the exchange is over; the client
// connection is not reusable afterwards.
boost::asio::awaitable<void> ProxyToNode(
    TlsStream& client, const boost::beast::http::request<boost::beast::http::string_body>& req,
    NodeTarget target, std::string token, boost::asio::ssl::context* client_tls);

}  // namespace kennel::apiserver
