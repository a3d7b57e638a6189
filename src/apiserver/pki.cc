#include "apiserver/pki.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "base/base64.h"
#include "base/file.h"

namespace kennel::apiserver {
namespace {

namespace fs = std::filesystem;

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter>;
using CertPtr = std::unique_ptr<X509, Deleter>;
using BioPtr = std::unique_ptr<BIO, Deleter>;

constexpr int kTenYearsSeconds = 10 * 365 * 24 * 3600;

std::string RandomHex(int bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), bytes);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// EC P-256: as strong as RSA-3072 for TLS and generated in a millisecond.
KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256")); }

std::string KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

std::string CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

KeyPtr KeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

CertPtr CertFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Deleter> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext) X509_add_ext(cert, ext.get(), -1);
}

bool LooksLikeIp(const std::string& host) {
  return host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

std::string SanList(const std::vector<std::string>& sans) {
  std::string out;
  for (const auto& s : sans) {
    if (!out.empty()) out += ",";
    out += (LooksLikeIp(s) ? "IP:" : "DNS:") + s;
  }
  return out;
}

CertPtr NewCert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
                bool is_ca, const std::vector<std::string>& sans) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kTenYearsSeconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), signer, NID_subject_alt_name, SanList(sans));
  }
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

bool CertCoversAll(X509* cert, const std::vector<std::string>& sans) {
  for (const auto& s : sans) {
    int ok = LooksLikeIp(s) ? X509_check_ip_asc(cert, s.c_str(), 0)
                            : X509_check_host(cert, s.c_str(), s.size(), 0, nullptr);
    if (ok != 1) return false;
  }
  return true;
}

}  // namespace

StatusOr<CertificateAuthority> NewCertificateAuthority() {
  KeyPtr key = NewKey();
  if (!key) return Internal("cannot generate a key for the cluster CA");
  CertPtr cert = NewCert(key.get(), "kennel-ca", nullptr, nullptr, /*is_ca=*/true, {});
  return CertificateAuthority{CertToPem(cert.get()), KeyToPem(key.get())};
}

std::string NewAdminToken() { return RandomHex(32); }

StatusOr<ServingCert> LoadOrIssueServingCert(const std::string& pki_dir,
                                             const CertificateAuthority& ca,
                                             const std::vector<std::string>& extra_sans) {
  CertPtr ca_c = CertFromPem(ca.cert_pem);
  KeyPtr ca_k = KeyFromPem(ca.key_pem);
  if (!ca_c || !ca_k) return BadRequest("the CA's certificate or key does not parse");
  std::error_code ec;
  fs::create_directories(pki_dir, ec);
  if (ec) return Internal("cannot create " + pki_dir + ": " + ec.message());
  const std::string srv_crt = pki_dir + "/server.crt", srv_key = pki_dir + "/server.key";

  std::vector<std::string> sans = {"127.0.0.1",          "::1",
                                   "localhost",          "kubernetes",
                                   "kubernetes.default", "kubernetes.default.svc"};
  for (const auto& s : extra_sans) {
    if (!s.empty() && s != "0.0.0.0" && s != "::") sans.push_back(s);
  }
  auto srv_pem = ReadFile(srv_crt);
  auto srv_key_pem = ReadFile(srv_key);
  CertPtr srv_c = srv_pem.ok() ? CertFromPem(*srv_pem) : nullptr;
  KeyPtr srv_k = srv_key_pem.ok() ? KeyFromPem(*srv_key_pem) : nullptr;
  if (!srv_c || !srv_k || !CertCoversAll(srv_c.get(), sans) ||
      X509_verify(srv_c.get(), ca_k.get()) != 1) {
    srv_k = NewKey();
    srv_c = NewCert(srv_k.get(), "kennel-apiserver", ca_c.get(), ca_k.get(), /*is_ca=*/false, sans);
    RETURN_IF_ERROR(WriteFileAtomically(srv_key, KeyToPem(srv_k.get()), 0600));
    RETURN_IF_ERROR(WriteFileAtomically(srv_crt, CertToPem(srv_c.get()), 0644));
  }
  return ServingCert{CertToPem(srv_c.get()), KeyToPem(srv_k.get())};
}

StatusOr<Credentials> LoadOrCreateCredentials(const std::string& pki_dir,
                                              const std::vector<std::string>& extra_sans) {
  std::error_code ec;
  fs::create_directories(pki_dir, ec);
  if (ec) return Internal("cannot create " + pki_dir + ": " + ec.message());
  const std::string ca_crt = pki_dir + "/ca.crt", ca_key = pki_dir + "/ca.key";
  const std::string token_file = pki_dir + "/admin.token";

  Credentials creds;
  std::optional<CertificateAuthority> ca;
  auto ca_pem = ReadFile(ca_crt);
  auto ca_key_pem = ReadFile(ca_key);
  if (ca_pem.ok() && ca_key_pem.ok()) {
    CertPtr c = CertFromPem(*ca_pem);
    KeyPtr k = KeyFromPem(*ca_key_pem);
    if (c && k) ca = CertificateAuthority{CertToPem(c.get()), KeyToPem(k.get())};
  }
  if (!ca) {
    ASSIGN_OR_RETURN(ca, NewCertificateAuthority());
    RETURN_IF_ERROR(WriteFileAtomically(ca_key, ca->key_pem, 0600));
    RETURN_IF_ERROR(WriteFileAtomically(ca_crt, ca->cert_pem, 0644));
  }
  creds.ca_cert_pem = ca->cert_pem;

  ASSIGN_OR_RETURN(ServingCert serving, LoadOrIssueServingCert(pki_dir, *ca, extra_sans));
  creds.server_cert_pem = std::move(serving.cert_pem);
  creds.server_key_pem = std::move(serving.key_pem);

  auto token = ReadTokenFile(token_file);
  if (token.ok() && token->size() >= 32) {
    creds.admin_token = *token;
  } else {
    creds.admin_token = NewAdminToken();
    RETURN_IF_ERROR(WriteFileAtomically(token_file, creds.admin_token + "\n", 0600));
  }
  return creds;
}

StatusOr<std::string> ReadTokenFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string token, ReadFile(path));
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  return token;
}

StatusOr<ServingCert> LoadOrCreateSelfSigned(const std::string& dir, const std::string& common_name,
                                             const std::vector<std::string>& sans) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  const std::string crt = dir + "/serving.crt", key = dir + "/serving.key";
  auto cert_pem = ReadFile(crt);
  auto key_pem = ReadFile(key);
  CertPtr c = cert_pem.ok() ? CertFromPem(*cert_pem) : nullptr;
  KeyPtr k = key_pem.ok() ? KeyFromPem(*key_pem) : nullptr;
  if (!c || !k || !CertCoversAll(c.get(), sans)) {
    k = NewKey();
    c = NewCert(k.get(), common_name, nullptr, nullptr, /*is_ca=*/false, sans);
    RETURN_IF_ERROR(WriteFileAtomically(key, KeyToPem(k.get()), 0600));
    RETURN_IF_ERROR(WriteFileAtomically(crt, CertToPem(c.get()), 0644));
  }
  return ServingCert{CertToPem(c.get()), KeyToPem(k.get())};
}

std::string AdminKubeconfig(const std::string& server_url, const Credentials& creds) {
  std::ostringstream out;
  out << "apiVersion: v1\n"
      << "kind: Config\n"
      << "clusters:\n"
      << "- name: kennel\n"
      << "  cluster:\n"
      << "    server: " << server_url << "\n"
      << "    certificate-authority-data: " << Base64Encode(creds.ca_cert_pem) << "\n"
      << "users:\n"
      << "- name: kennel-admin\n"
      << "  user:\n"
      << "    token: " << creds.admin_token << "\n"
      << "contexts:\n"
      << "- name: kennel\n"
      << "  context:\n"
      << "    cluster: kennel\n"
      << "    user: kennel-admin\n"
      << "    namespace: default\n"
      << "current-context: kennel\n";
  return out.str();
}

}  // namespace kennel::apiserver
