#include "apiserver/cluster_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/pki.h"
#include "base/base64.h"
#include "base/file.h"
#include "store/embedded.h"

namespace kennel::apiserver {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kToken[] = "correct-horse-battery-staple";

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};

std::unique_ptr<X509, X509Deleter> ParseCert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return std::unique_ptr<X509, X509Deleter>(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Whether cert_pem chains to ca_pem and is valid for host (a name or an IP), as
// a TLS client that trusts only ca_pem would check it.
bool VerifiesAgainst(const std::string& cert_pem, const std::string& ca_pem,
                     const std::string& host) {
  auto cert = ParseCert(cert_pem);
  auto ca = ParseCert(ca_pem);
  if (!cert || !ca) return false;
  std::unique_ptr<X509_STORE, X509Deleter> roots(X509_STORE_new());
  X509_STORE_add_cert(roots.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, X509Deleter> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), roots.get(), cert.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  bool is_ip = host.find_first_not_of("0123456789.") == std::string::npos ||
               host.find(':') != std::string::npos;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
  return X509_verify_cert(ctx.get()) == 1;
}

int FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

class ClusterIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kennel-identity-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store::EmbeddedOptions options;
    options.path = dir_ + "/store.db";
    auto opened = store::OpenEmbedded(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A server's own pki directory: each server of a cluster has one.
  std::string Pki(const std::string& server) const { return dir_ + "/" + server + "/pki"; }

  StatusOr<Credentials> Start(const std::string& server, const std::string& token,
                              const std::vector<std::string>& extra_sans = {}) {
    return LoadOrCreateSharedCredentials(*store_, token, Pki(server), extra_sans);
  }

  std::string Stored() {
    auto kv = store_->Get(kClusterIdentityKey);
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return kv.ok() ? kv->value : "";
  }

  // Replaces one base64 field of the stored envelope with mutate(decoded bytes).
  void TamperWith(const char* field, void (*mutate)(std::string&)) {
    auto kv = store_->Get(kClusterIdentityKey);
    ASSERT_TRUE(kv.ok());
    json envelope = json::parse(kv->value);
    auto bytes = Base64Decode(envelope[field].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    mutate(*bytes);
    envelope[field] = Base64Encode(*bytes);
    ASSERT_TRUE(
        store::UpdateSync(*store_, kClusterIdentityKey, envelope.dump(), kv->mod_revision).ok());
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ClusterIdentityTest, SecondServerWithTheSameTokenSharesCaAndAdminToken) {
  auto first = Start("a", kToken, {"10.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto created = store_->Get(kClusterIdentityKey);
  ASSERT_TRUE(created.ok());

  auto second = Start("b", kToken, {"10.0.0.2", "b.example"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->ca_cert_pem, first->ca_cert_pem);
  EXPECT_EQ(second->admin_token, first->admin_token);
  EXPECT_GE(second->admin_token.size(), 32u);
  // Each server has its own serving certificate, for its own addresses.
  EXPECT_NE(second->server_cert_pem, first->server_cert_pem);
  EXPECT_NE(second->server_key_pem, first->server_key_pem);
  for (const char* host : {"127.0.0.1", "::1", "localhost", "10.0.0.2", "b.example"}) {
    EXPECT_TRUE(VerifiesAgainst(second->server_cert_pem, first->ca_cert_pem, host)) << host;
  }
  EXPECT_TRUE(VerifiesAgainst(first->server_cert_pem, second->ca_cert_pem, "10.0.0.1"));
  EXPECT_FALSE(VerifiesAgainst(second->server_cert_pem, first->ca_cert_pem, "10.0.0.1"));

  // Opening did not write: the identity is the first server's, untouched.
  auto after = store_->Get(kClusterIdentityKey);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->mod_revision, created->mod_revision);

  // Each pki_dir looks like LoadOrCreateCredentials' for the local tools.
  EXPECT_EQ(ReadFile(Pki("b") + "/ca.crt").value(), first->ca_cert_pem);
  EXPECT_EQ(ReadTokenFile(Pki("b") + "/admin.token").value(), first->admin_token);
  EXPECT_EQ(FileMode(Pki("b") + "/admin.token"), 0600);
  EXPECT_EQ(FileMode(Pki("b") + "/ca.key"), 0600);
  EXPECT_EQ(FileMode(Pki("b") + "/server.key"), 0600);
  EXPECT_EQ(ReadFile(Pki("b") + "/ca.key").value(), ReadFile(Pki("a") + "/ca.key").value());
}

TEST_F(ClusterIdentityTest, RestartKeepsTheSameServingCertificate) {
  auto first = Start("a", kToken, {"10.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = Start("a", kToken, {"10.0.0.1"});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->server_cert_pem, first->server_cert_pem);
  EXPECT_EQ(again->server_key_pem, first->server_key_pem);

  // A new address needs a certificate that covers it.
  auto moved = Start("a", kToken, {"10.0.0.9"});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_NE(moved->server_cert_pem, first->server_cert_pem);
  EXPECT_TRUE(VerifiesAgainst(moved->server_cert_pem, first->ca_cert_pem, "10.0.0.9"));
}

TEST_F(ClusterIdentityTest, ServingCertificateFromAnotherCaIsReissued) {
  // A server that used to run alone, with its own CA, joins the cluster.
  auto local = LoadOrCreateCredentials(Pki("a"), {});
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto shared = Start("b", kToken);
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();

  auto joined = Start("a", kToken);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->ca_cert_pem, shared->ca_cert_pem);
  EXPECT_NE(joined->ca_cert_pem, local->ca_cert_pem);
  EXPECT_NE(joined->server_cert_pem, local->server_cert_pem);
  EXPECT_TRUE(VerifiesAgainst(joined->server_cert_pem, shared->ca_cert_pem, "127.0.0.1"));
  EXPECT_EQ(joined->admin_token, shared->admin_token);
  // Its pki_dir now holds the shared CA, so starting it without --token keeps it.
  auto alone_again = LoadOrCreateCredentials(Pki("a"), {});
  ASSERT_TRUE(alone_again.ok());
  EXPECT_EQ(alone_again->ca_cert_pem, shared->ca_cert_pem);
  EXPECT_EQ(alone_again->server_cert_pem, joined->server_cert_pem);
  EXPECT_EQ(alone_again->admin_token, shared->admin_token);
}

TEST_F(ClusterIdentityTest, WrongTokenIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Start("a", kToken).ok());
  auto before = store_->Get(kClusterIdentityKey);
  ASSERT_TRUE(before.ok());
  int64_t revision = store_->Revision();

  auto wrong = Start("b", "not-the-token");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnauthorized);
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("does not match the one this cluster was created with"));

  auto after = store_->Get(kClusterIdentityKey);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->value, before->value);
  EXPECT_EQ(after->mod_revision, before->mod_revision);
  EXPECT_EQ(store_->Revision(), revision);
  EXPECT_FALSE(std::filesystem::exists(Pki("b") + "/admin.token"));
  EXPECT_FALSE(std::filesystem::exists(Pki("b") + "/ca.key"));

  // The right token still works afterwards.
  EXPECT_TRUE(Start("b", kToken).ok());
}

TEST_F(ClusterIdentityTest, EmptyTokenIsABadRequest) {
  auto empty = Start("a", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), Code::kBadRequest);
  EXPECT_EQ(store_->Get(kClusterIdentityKey).status().code(), Code::kNotFound);
}

TEST_F(ClusterIdentityTest, ServersRacingTheFirstStartConvergeOnOneIdentity) {
  constexpr int kServers = 3;
  std::vector<std::optional<StatusOr<Credentials>>> results(kServers);
  std::latch go(kServers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i) {
    std::string server = "server-";
    server += std::to_string(i);  // not "server-" + ...: GCC 12 warns falsely (-Wrestrict)
    threads.emplace_back([&, i, server] {
      go.arrive_and_wait();
      results[i] = Start(server, kToken);
    });
  }
  for (auto& t : threads) t.join();

  ASSERT_TRUE(results[0]->ok()) << results[0]->status().ToString();
  for (int i = 1; i < kServers; ++i) {
    ASSERT_TRUE(results[i]->ok()) << results[i]->status().ToString();
    EXPECT_EQ((*results[i])->ca_cert_pem, (*results[0])->ca_cert_pem) << i;
    EXPECT_EQ((*results[i])->admin_token, (*results[0])->admin_token) << i;
    EXPECT_TRUE(
        VerifiesAgainst((*results[i])->server_cert_pem, (*results[0])->ca_cert_pem, "127.0.0.1"))
        << i;
  }
  // The one stored identity is the one they all use.
  auto later = Start("late", kToken);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->ca_cert_pem, (*results[0])->ca_cert_pem);
  EXPECT_EQ(later->admin_token, (*results[0])->admin_token);
}

TEST_F(ClusterIdentityTest, TamperedCiphertextIsRefusedAsDamaged) {
  ASSERT_TRUE(Start("a", kToken).ok());
  TamperWith("ciphertext", [](std::string& b) { b[b.size() / 2] ^= 0x01; });
  auto opened = Start("b", kToken);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kInternal);
  EXPECT_THAT(opened.status().message(), HasSubstr("damaged"));
}

TEST_F(ClusterIdentityTest, TamperedTagOrNonceIsRefusedAsDamaged) {
  ASSERT_TRUE(Start("a", kToken).ok());
  TamperWith("tag", [](std::string& b) { b[0] ^= 0x80; });
  EXPECT_EQ(Start("b", kToken).status().code(), Code::kInternal);

  TamperWith("tag", [](std::string& b) { b[0] ^= 0x80; });  // restored
  EXPECT_TRUE(Start("b", kToken).ok());

  TamperWith("nonce", [](std::string& b) { b[3] ^= 0x04; });
  EXPECT_EQ(Start("c", kToken).status().code(), Code::kInternal);
}

TEST_F(ClusterIdentityTest, TamperedSaltDerivesAnotherKeyAndReadsAsAWrongToken) {
  ASSERT_TRUE(Start("a", kToken).ok());
  TamperWith("salt", [](std::string& b) { b[0] ^= 0x01; });
  EXPECT_EQ(Start("b", kToken).status().code(), Code::kUnauthorized);
}

TEST_F(ClusterIdentityTest, EnvelopeThatIsNotJsonIsRefusedAsDamaged) {
  ASSERT_TRUE(Start("a", kToken).ok());
  auto kv = store_->Get(kClusterIdentityKey);
  ASSERT_TRUE(kv.ok());
  ASSERT_TRUE(store::UpdateSync(*store_, kClusterIdentityKey, "{not json", kv->mod_revision).ok());
  auto opened = Start("b", kToken);
  EXPECT_EQ(opened.status().code(), Code::kInternal);
  EXPECT_THAT(opened.status().message(), HasSubstr("damaged"));
}

TEST_F(ClusterIdentityTest, StoredValueHoldsNoSecretInClear) {
  auto creds = Start("a", kToken);
  ASSERT_TRUE(creds.ok());
  std::string ca_key_pem = ReadFile(Pki("a") + "/ca.key").value();
  ASSERT_THAT(ca_key_pem, HasSubstr("PRIVATE KEY"));
  std::string stored = Stored();

  EXPECT_THAT(stored, ::testing::Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr(creds->admin_token)));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr(Base64Encode(creds->admin_token))));
  // No line of the key's base64 body, raw or JSON-escaped, shows through either.
  std::istringstream lines(ca_key_pem);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("-----")) continue;
    EXPECT_THAT(stored, ::testing::Not(HasSubstr(line)));
  }

  json envelope = json::parse(stored);
  EXPECT_EQ(envelope["version"], 1);
  EXPECT_EQ(envelope["kdf"], "pbkdf2-hmac-sha256");
  EXPECT_GE(envelope["iterations"].get<int>(), 200'000);
  for (const char* field : {"salt", "check", "nonce", "ciphertext", "tag"}) {
    EXPECT_TRUE(envelope.contains(field)) << field;
  }
  EXPECT_EQ(Base64Decode(envelope["salt"].get<std::string>())->size(), 16u);
  EXPECT_EQ(Base64Decode(envelope["nonce"].get<std::string>())->size(), 12u);
}

TEST_F(ClusterIdentityTest, OpeningCostsLittleAtStartUp) {
  ASSERT_TRUE(Start("a", kToken).ok());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Start("b", kToken).ok());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("second server start (key derivation + serving cert): %.3f s\n", seconds);
  RecordProperty("open_seconds", std::to_string(seconds));
  // Generous: the budget is ~0.3 s on an idle core; a loaded CI box may be slower.
  EXPECT_LT(seconds, 3.0);
}

// LoadOrCreateCredentials, refactored to share its CA code with the cluster
// identity, still keeps one identity per pki_dir across restarts.
TEST_F(ClusterIdentityTest, LocalCredentialsStayStableAcrossRestarts) {
  auto first = LoadOrCreateCredentials(Pki("solo"), {"10.1.2.3"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(VerifiesAgainst(first->server_cert_pem, first->ca_cert_pem, "10.1.2.3"));
  EXPECT_TRUE(VerifiesAgainst(first->server_cert_pem, first->ca_cert_pem, "kubernetes.default"));
  auto again = LoadOrCreateCredentials(Pki("solo"), {"10.1.2.3"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ca_cert_pem, first->ca_cert_pem);
  EXPECT_EQ(again->server_cert_pem, first->server_cert_pem);
  EXPECT_EQ(again->server_key_pem, first->server_key_pem);
  EXPECT_EQ(again->admin_token, first->admin_token);
  EXPECT_EQ(FileMode(Pki("solo") + "/ca.key"), 0600);

  auto moved = LoadOrCreateCredentials(Pki("solo"), {"10.9.9.9"});
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->ca_cert_pem, first->ca_cert_pem);
  EXPECT_NE(moved->server_cert_pem, first->server_cert_pem);
  EXPECT_TRUE(VerifiesAgainst(moved->server_cert_pem, first->ca_cert_pem, "10.9.9.9"));
  // Nothing of this reached a store.
  EXPECT_EQ(store_->Get(kClusterIdentityKey).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kennel::apiserver
