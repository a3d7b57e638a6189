// The extender client against a real HTTP(S) server in the test process:
// Beast on 127.0.0.1, port 0, one I/O thread, answering from a per-test
// handler and recording every request.
#include "scheduler/extender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "apiserver/pki.h"

namespace kennel::scheduler {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Request {
  std::string method;
  std::string target;
  std::string content_type;
  std::string body;
  json Json() const { return json::parse(body); }
};

struct Answer {
  int status = 200;
  std::string body;
  bool hang = false;  // never answer
};

// A scheduler extender stand-in. Handlers run on the server's thread.
class FakeExtender {
 public:
  using Handler = std::function<Answer(const Request&)>;

  // With tls, serves HTTPS with that context.
  explicit FakeExtender(Handler handler, ssl::context* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, AcceptLoop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeExtender() {
    ioc_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/scheduler") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  bool WaitForRequests(size_t n, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  asio::awaitable<void> AcceptLoop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(ioc_, Session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::error_code ec;
    if (tls_ == nullptr) {
      beast::tcp_stream stream(std::move(socket));
      co_await Converse(stream);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
      co_await stream.async_handshake(ssl::stream_base::server,
                                      asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      co_await Converse(stream);
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  template <typename Stream>
  asio::awaitable<void> Converse(Stream& stream) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    Request r{std::string(req.method_string()), std::string(req.target()),
              std::string(req[http::field::content_type]), req.body()};
    Answer answer = handler_(r);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    cv_.notify_all();
    if (answer.hang) {
      asio::steady_timer forever(ioc_, std::chrono::hours(1));
      co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = answer.body;
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  Handler handler_;
  ssl::context* tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;
};

Answer Json(const json& body) { return {200, body.dump()}; }

json Node(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"zone", "a"}}}}},
          {"status", {{"allocatable", {{"cpu", "4"}}}}}};
}

json Pod(const json& resources = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web"}, {"namespace", "prod"}, {"uid", "u-1"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"resources", resources}}}}}}};
}

ExtenderConfig Config(const std::string& url) {
  ExtenderConfig c;
  c.url_prefix = url;
  c.filter_verb = "filter";
  c.prioritize_verb = "prioritize";
  c.bind_verb = "bind";
  return c;
}

class ExtenderTest : public ::testing::Test {
 protected:
  json n1_ = Node("n1"), n2_ = Node("n2"), n3_ = Node("n3");
  std::vector<const json*> nodes_ = {&n1_, &n2_, &n3_};
};

TEST_F(ExtenderTest, FilterSendsFullNodesAndReadsTheNodeList) {
  FakeExtender server([&](const Request&) {
    return Json({{"Nodes", {{"metadata", json::object()}, {"items", {n1_, n3_, Node("ghost")}}}},
                 {"NodeNames", nullptr},
                 {"FailedNodes", {{"n2", "no GPU left"}, {"ghost", "not sent"}}},
                 {"Error", ""}});
  });
  Extender ext(Config(server.url("/scheduler/")));
  ASSERT_TRUE(ext.status().ok()) << ext.status().ToString();
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n1", "n3"}));
  EXPECT_EQ(result->failed, (std::map<std::string, std::string>{{"n2", "no GPU left"}}));
  EXPECT_TRUE(result->failed_unresolvable.empty());

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/scheduler/filter");
  EXPECT_EQ(requests[0].content_type, "application/json");
  json args = requests[0].Json();
  EXPECT_EQ(args["Pod"], Pod());
  EXPECT_EQ(args["Nodes"]["items"], json::array({n1_, n2_, n3_}));
  EXPECT_TRUE(args["NodeNames"].is_null());
}

TEST_F(ExtenderTest, NodeCacheCapableFilterSendsNamesAndReadsAnyKeyCase) {
  FakeExtender server([](const Request&) {
    // Extenders not written in Go often answer in lower camel case; Go's
    // decoder, and so kube-scheduler, reads any case.
    return Json({{"nodenames", {"n2", "n3", "n3", "ghost"}},
                 {"failedNodes", {{"n1", "busy"}}},
                 {"failedAndUnresolvableNodes", {{"n1", "wrong zone"}}},
                 {"error", ""}});
  });
  ExtenderConfig c = Config(server.url());
  c.node_cache_capable = true;
  Extender ext(c);
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n2", "n3"}));
  EXPECT_TRUE(result->failed.empty());  // the unresolvable verdict takes precedence
  EXPECT_EQ(result->failed_unresolvable,
            (std::map<std::string, std::string>{{"n1", "wrong zone"}}));

  json args = server.requests().at(0).Json();
  EXPECT_EQ(args["NodeNames"], json({"n1", "n2", "n3"}));
  EXPECT_TRUE(args["Nodes"].is_null());
  EXPECT_EQ(args["Pod"]["metadata"]["name"], "web");
}

TEST_F(ExtenderTest, WithoutAFilterVerbEveryNodePassesWithoutACall) {
  ExtenderConfig c = Config("http://127.0.0.1:1");
  c.filter_verb.clear();
  c.prioritize_verb.clear();
  Extender ext(c);
  EXPECT_FALSE(ext.IsFilter());
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n1", "n2", "n3"}));
  auto scores = ext.Prioritize(Pod(), nodes_);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(*scores, (std::map<std::string, int64_t>{{"n1", 0}, {"n2", 0}, {"n3", 0}}));
}

TEST_F(ExtenderTest, PrioritizeScalesScoresByWeightToTheNodeScoreRange) {
  FakeExtender server([](const Request&) {
    return Json(json::array({{{"Host", "n1"}, {"Score", 10}},
                             {{"Host", "n2"}, {"Score", 4}},
                             {{"host", "n3"}, {"score", 0}},
                             {{"Host", "ghost"}, {"Score", 10}}}));
  });
  ExtenderConfig c = Config(server.url());
  c.weight = 3;
  Extender ext(c);
  auto scores = ext.Prioritize(Pod(), nodes_);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(*scores, (std::map<std::string, int64_t>{{"n1", 300}, {"n2", 120}, {"n3", 0}}));
  EXPECT_EQ(server.requests().at(0).target, "/scheduler/prioritize");
  EXPECT_EQ(server.requests().at(0).Json()["Nodes"]["items"].size(), 3u);
}

TEST_F(ExtenderTest, ResolvesHostNames) {
  FakeExtender server([](const Request&) { return Json({{"NodeNames", {"n1"}}}); });
  std::string url = server.url();
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  ExtenderConfig c = Config(url);
  c.node_cache_capable = true;
  auto result = Extender(c).Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n1"}));
}

TEST_F(ExtenderTest, BindSendsExtenderBindingArgs) {
  FakeExtender server([](const Request& r) {
    if (r.Json()["Node"] == "n2") return Json({{"Error", ""}});
    return Json({{"Error", "node n3 is draining"}});
  });
  Extender ext(Config(server.url()));
  Status st = ext.Bind("prod", "web", "u-1", "n2");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(server.requests().at(0).target, "/scheduler/bind");
  EXPECT_EQ(
      server.requests().at(0).Json(),
      json({{"PodName", "web"}, {"PodNamespace", "prod"}, {"PodUID", "u-1"}, {"Node", "n2"}}));

  st = ext.Bind("prod", "web", "u-1", "n3");
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_EQ(st.message(), "extender " + server.url() + "/bind: node n3 is draining");
}

TEST_F(ExtenderTest, BindWithoutABindVerbFails) {
  ExtenderConfig c = Config("http://127.0.0.1:1");
  c.bind_verb.clear();
  Extender ext(c);
  EXPECT_FALSE(ext.IsBinder());
  EXPECT_EQ(ext.Bind("ns", "p", "u", "n").code(), Code::kInternal);
}

TEST_F(ExtenderTest, TheErrorFieldFailsTheCall) {
  FakeExtender server([](const Request&) { return Json({{"Error", "cache not synced"}}); });
  Extender ext(Config(server.url()));
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInternal);
  EXPECT_EQ(result.status().message(), "extender " + server.url() + "/filter: cache not synced");
}

TEST_F(ExtenderTest, AnHttpErrorIsInternalAndNamesTheUrl) {
  FakeExtender server([](const Request&) { return Answer{500, "boom"}; });
  Extender ext(Config(server.url()));
  auto scores = ext.Prioritize(Pod(), nodes_);
  ASSERT_FALSE(scores.ok());
  EXPECT_EQ(scores.status().code(), Code::kInternal);
  EXPECT_EQ(scores.status().message(),
            "extender " + server.url() + "/prioritize: answered HTTP 500: boom");
}

TEST_F(ExtenderTest, MalformedAnswersAreInternal) {
  std::vector<std::string> bodies = {"not json",
                                     "[1, 2]",
                                     R"({"NodeNames": "n1"})",
                                     R"({"NodeNames": [1]})",
                                     R"({"Nodes": {"items": 5}})",
                                     R"({"FailedNodes": {"n1": 3}})",
                                     R"({"Error": 7})"};
  size_t next = 0;
  FakeExtender server([&](const Request&) { return Answer{200, bodies[next++]}; });
  ExtenderConfig c = Config(server.url());
  c.node_cache_capable = true;
  Extender ext(c);
  std::vector<std::string> messages;
  for (const auto& body : bodies) {
    auto result = ext.Filter(Pod(), nodes_);
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.status().code(), Code::kInternal) << body;
    EXPECT_THAT(result.status().message(), HasSubstr(server.url() + "/filter: ")) << body;
    messages.push_back(result.status().message());
  }
  EXPECT_THAT(messages[0], HasSubstr("answer is not JSON"));
  EXPECT_THAT(messages[2], HasSubstr("malformed answer: NodeNames must be a list"));
}

TEST_F(ExtenderTest, MalformedPrioritizeAnswersAreInternal) {
  std::vector<std::string> bodies = {R"({"Host": "n1"})", R"([{"Host": "n1", "Score": "high"}])",
                                     R"([{"Host": "n1", "Score": 1.5}])",
                                     R"([{"Host": "n1", "Score": 9223372036854775807}])"};
  size_t next = 0;
  FakeExtender server([&](const Request&) { return Answer{200, bodies[next++]}; });
  Extender ext(Config(server.url()));
  for (const auto& body : bodies) {
    auto scores = ext.Prioritize(Pod(), nodes_);
    ASSERT_FALSE(scores.ok()) << body;
    EXPECT_EQ(scores.status().code(), Code::kInternal) << body;
  }
}

TEST_F(ExtenderTest, AClosedPortIsUnavailableAtOnce) {
  int port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: connecting is refused
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  Extender ext(Config(url));
  auto start = Clock::now();
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_FALSE(result.ok());
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(result.status().code(), Code::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("extender " + url + "/filter: connecting: "));
}

TEST_F(ExtenderTest, ASilentExtenderTimesOut) {
  FakeExtender server([](const Request&) { return Answer{200, "", /*hang=*/true}; });
  ExtenderConfig c = Config(server.url());
  c.http_timeout = milliseconds(200);
  Extender ext(c);
  auto start = Clock::now();
  auto result = ext.Filter(Pod(), nodes_);
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kUnavailable);
  EXPECT_EQ(result.status().message(),
            "extender " + server.url() + "/filter: reading the answer: no answer within 200ms");
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(3000));
  EXPECT_TRUE(server.WaitForRequests(1));
}

TEST_F(ExtenderTest, IsInterestedFollowsManagedResources) {
  ExtenderConfig c = Config("http://127.0.0.1:1");
  EXPECT_TRUE(Extender(c).IsInterested(Pod()));  // no managedResources: every pod

  c.managed_resources = {"example.com/gpu", "example.com/fpga"};
  Extender ext(c);
  EXPECT_FALSE(ext.IsInterested(Pod()));
  EXPECT_FALSE(ext.IsInterested(Pod({{"requests", {{"cpu", "1"}}}})));
  EXPECT_TRUE(ext.IsInterested(Pod({{"requests", {{"example.com/gpu", "1"}}}})));
  EXPECT_TRUE(ext.IsInterested(Pod({{"limits", {{"example.com/fpga", "2"}}}})));
  json init = Pod();
  init["spec"]["initContainers"] = {
      {{"name", "i"}, {"resources", {{"limits", {{"example.com/gpu", "1"}}}}}}};
  EXPECT_TRUE(ext.IsInterested(init));
}

TEST_F(ExtenderTest, ABadUrlFailsEveryCall) {
  ExtenderConfig c = Config("http://:80");
  Extender ext(c);
  EXPECT_FALSE(ext.status().ok());
  EXPECT_EQ(ext.Filter(Pod(), nodes_).status().code(), Code::kInternal);
}

class ExtenderTlsTest : public ExtenderTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-extender-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto creds = apiserver::LoadOrCreateCredentials(dir_, {});
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    server_tls_.use_certificate_chain(asio::buffer(creds->server_cert_pem));
    server_tls_.use_private_key(asio::buffer(creds->server_key_pem), ssl::context::pem);
    ca_file_ = dir_ + "/ca.crt";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string ca_file_;
  ssl::context server_tls_{ssl::context::tls_server};
};

TEST_F(ExtenderTlsTest, VerifiesTheServerWithTheCaFile) {
  FakeExtender server([](const Request&) { return Json({{"NodeNames", {"n1"}}}); }, &server_tls_);
  ExtenderConfig c = Config(server.url());
  c.node_cache_capable = true;
  c.enable_https = true;
  c.ca_file = ca_file_;
  Extender ext(c);
  ASSERT_TRUE(ext.status().ok()) << ext.status().ToString();
  auto result = ext.Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n1"}));

  // The certificate does not name this server: the handshake fails.
  c.server_name = "extender.example";
  auto refused = Extender(c).Filter(Pod(), nodes_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("TLS handshake"));
}

TEST_F(ExtenderTlsTest, WithoutACaVerificationIsOffOnlyWhenAskedFor) {
  FakeExtender server([](const Request&) { return Json({{"NodeNames", {"n2"}}}); }, &server_tls_);
  ExtenderConfig c = Config(server.url());
  c.node_cache_capable = true;
  // No CA, no enableHTTPS: the system's roots, which do not know the test CA.
  auto refused = Extender(c).Filter(Pod(), nodes_);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("TLS handshake"));
  // enableHTTPS without a CA, as kube-scheduler: no verification.
  c.enable_https = true;
  auto result = Extender(c).Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // insecure: no verification either.
  c.enable_https = false;
  c.insecure = true;
  result = Extender(c).Filter(Pod(), nodes_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->feasible, (std::vector<std::string>{"n2"}));
}

TEST_F(ExtenderTlsTest, AnUnreadableCaFileIsReportedUpFront) {
  ExtenderConfig c = Config("https://127.0.0.1:1");
  c.ca_file = dir_ + "/missing.crt";
  Extender ext(c);
  EXPECT_EQ(ext.status().code(), Code::kInternal);
  EXPECT_THAT(ext.status().message(), HasSubstr("missing.crt"));
  EXPECT_EQ(ext.Bind("ns", "p", "u", "n").code(), Code::kInternal);
}

}  // namespace
}  // namespace kennel::scheduler
