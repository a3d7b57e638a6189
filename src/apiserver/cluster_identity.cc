#include "apiserver/cluster_identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/json_access.h"
#include "base/base64.h"
#include "base/file.h"

namespace kennel::apiserver {
namespace {

using nlohmann::json;

constexpr int kEnvelopeVersion = 1;
constexpr char kKdf[] = "pbkdf2-hmac-sha256";
constexpr int kSaltBytes = 16;
constexpr int kNonceBytes = 12;  // GCM's native nonce size: no extra GHASH pass
constexpr int kTagBytes = 16;
constexpr int kKeyBytes = 32;
// Bounds the work a damaged (or hostile) envelope can make a starting server do.
constexpr int kMaxIterations = 10'000'000;

// What the envelope seals.
struct Secrets {
  CertificateAuthority ca;
  std::string admin_token;
};

// The two keys derived from the token; wiped when dropped so they do not
// linger in freed memory.
struct Keys {
  unsigned char aead[kKeyBytes];
  unsigned char check[kKeyBytes];
  Keys() = default;
  Keys(const Keys&) = delete;
  Keys& operator=(const Keys&) = delete;
  ~Keys() { OPENSSL_cleanse(this, sizeof(*this)); }
};

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

StatusOr<std::string> RandomBytes(int n) {
  std::string out(n, '\0');
  if (RAND_bytes(MutableBytes(out), n) != 1) return Internal("no randomness from OpenSSL");
  return out;
}

Status Damaged(const std::string& why) {
  return Internal(std::string("the cluster identity sealed in the store at ") +
                  kClusterIdentityKey + " is damaged: " + why);
}

Status WrongToken() {
  return Status(Code::kUnauthorized,
                std::string("the cluster token does not match the one this cluster was created "
                            "with (its identity is sealed in the store at ") +
                    kClusterIdentityKey + "); give every server of the cluster the same --token");
}

// One slow PBKDF2 (the cost an attacker pays per guessed token), then two cheap
// HMACs with distinct labels, so the key check value reveals nothing about the
// encryption key and the derivation is not paid twice.
Status DeriveKeys(const std::string& token, std::string_view salt, int iterations, Keys* keys) {
  unsigned char master[kKeyBytes];
  if (PKCS5_PBKDF2_HMAC(token.data(), static_cast<int>(token.size()), Bytes(salt),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), kKeyBytes,
                        master) != 1) {
    return Internal("PBKDF2 failed");
  }
  static constexpr std::string_view kAeadLabel = "kennel cluster identity: aes-256-gcm key";
  static constexpr std::string_view kCheckLabel = "kennel cluster identity: key check";
  unsigned int len = 0;
  bool ok = HMAC(EVP_sha256(), master, kKeyBytes, Bytes(kAeadLabel), kAeadLabel.size(), keys->aead,
                 &len) != nullptr &&
            HMAC(EVP_sha256(), master, kKeyBytes, Bytes(kCheckLabel), kCheckLabel.size(),
                 keys->check, &len) != nullptr;
  OPENSSL_cleanse(master, sizeof(master));
  if (!ok) return Internal("HMAC-SHA256 failed");
  return Status::Ok();
}

StatusOr<std::string> Seal(const Secrets& secrets, const std::string& token) {
  std::string plain = json{{"caCert", secrets.ca.cert_pem},
                           {"caKey", secrets.ca.key_pem},
                           {"adminToken", secrets.admin_token}}
                          .dump();
  ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltBytes));
  ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonceBytes));
  Keys keys;
  RETURN_IF_ERROR(DeriveKeys(token, salt, kClusterIdentityIterations, &keys));

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string ciphertext(plain.size(), '\0');
  std::string tag(kTagBytes, '\0');
  int len = 0, tail = 0;
  // The store key is the associated data: the ciphertext only opens where it was put.
  std::string_view aad = kClusterIdentityKey;
  bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keys.aead, Bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), MutableBytes(ciphertext), &len, Bytes(plain),
                        static_cast<int>(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), MutableBytes(ciphertext) + len, &tail) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag.data()) == 1;
  OPENSSL_cleanse(plain.data(), plain.size());
  if (!ok) return Internal("AES-256-GCM encryption failed");
  ciphertext.resize(len + tail);

  return json{{"version", kEnvelopeVersion},
              {"kdf", kKdf},
              {"iterations", kClusterIdentityIterations},
              {"salt", Base64Encode(salt)},
              {"check", Base64Encode(std::string_view(reinterpret_cast<const char*>(keys.check),
                                                      kKeyBytes))},
              {"nonce", Base64Encode(nonce)},
              {"ciphertext", Base64Encode(ciphertext)},
              {"tag", Base64Encode(tag)}}
      .dump();
}

// A base64 field of the envelope, of exactly `size` bytes unless size is 0.
StatusOr<std::string> BinaryField(const json& envelope, const char* name, size_t size) {
  auto decoded = Base64Decode(api::Str(envelope, name));
  if (!decoded.ok() || (size != 0 && decoded->size() != size)) {
    return Damaged(std::string("bad or missing \"") + name + "\"");
  }
  return std::move(decoded).value();
}

StatusOr<Secrets> Open(const std::string& stored, const std::string& token) {
  json envelope = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object()) return Damaged("not a JSON object");
  int version = api::IntOr(envelope, "version", 0);
  if (version != kEnvelopeVersion) {
    return Damaged("envelope version " + std::to_string(version) + " (this Kennel reads version " +
                   std::to_string(kEnvelopeVersion) + ")");
  }
  if (api::Str(envelope, "kdf") != kKdf) return Damaged("unknown kdf");
  int iterations = api::IntOr(envelope, "iterations", 0);
  if (iterations < 1 || iterations > kMaxIterations) return Damaged("bad iteration count");
  ASSIGN_OR_RETURN(std::string salt, BinaryField(envelope, "salt", kSaltBytes));
  ASSIGN_OR_RETURN(std::string check, BinaryField(envelope, "check", kKeyBytes));
  ASSIGN_OR_RETURN(std::string nonce, BinaryField(envelope, "nonce", kNonceBytes));
  ASSIGN_OR_RETURN(std::string ciphertext, BinaryField(envelope, "ciphertext", 0));
  ASSIGN_OR_RETURN(std::string tag, BinaryField(envelope, "tag", kTagBytes));

  Keys keys;
  RETURN_IF_ERROR(DeriveKeys(token, salt, iterations, &keys));
  // A changed salt or iteration count also lands here: it too derives other keys.
  if (CRYPTO_memcmp(keys.check, check.data(), kKeyBytes) != 0) return WrongToken();

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string plain(ciphertext.size(), '\0');
  int len = 0, tail = 0;
  std::string_view aad = kClusterIdentityKey;
  bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keys.aead, Bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), MutableBytes(plain), &len, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), MutableBytes(plain) + len, &tail) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    // The token is right (the check value matched), so the ciphertext, nonce or
    // tag was changed after sealing.
    return Damaged("it fails its integrity check");
  }
  plain.resize(len + tail);
  json fields = json::parse(plain, nullptr, /*allow_exceptions=*/false);
  OPENSSL_cleanse(plain.data(), plain.size());
  Secrets secrets{{api::Str(fields, "caCert"), api::Str(fields, "caKey")},
                  api::Str(fields, "adminToken")};
  if (secrets.ca.cert_pem.empty() || secrets.ca.key_pem.empty() || secrets.admin_token.empty()) {
    return Damaged("the sealed contents lack the CA or the admin token");
  }
  return secrets;
}

StatusOr<Secrets> OpenOrCreateSecrets(store::Store& store, const std::string& token) {
  auto existing = store.Get(kClusterIdentityKey);
  if (existing.ok()) return Open(existing->value, token);
  if (existing.status().code() != Code::kNotFound) return existing.status();

  ASSIGN_OR_RETURN(CertificateAuthority ca, NewCertificateAuthority());
  Secrets fresh{std::move(ca), NewAdminToken()};
  ASSIGN_OR_RETURN(std::string sealed, Seal(fresh, token));
  auto created = store::CreateSync(store, kClusterIdentityKey, std::move(sealed));
  if (created.ok()) return fresh;
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  // Another server created it between our Get and Create: adopt the winner's,
  // so servers starting together still share one CA and admin token.
  ASSIGN_OR_RETURN(store::KeyValue winner, store.Get(kClusterIdentityKey));
  return Open(winner.value, token);
}

// Rewriting an unchanged file would still cost an fsync on every start.
Status WriteIfChanged(const std::string& path, const std::string& contents, int mode) {
  auto current = ReadFile(path);
  if (current.ok() && *current == contents) return Status::Ok();
  return WriteFileAtomically(path, contents, mode);
}

}  // namespace

StatusOr<Credentials> LoadOrCreateSharedCredentials(store::Store& store, const std::string& token,
                                                    const std::string& pki_dir,
                                                    const std::vector<std::string>& extra_sans) {
  if (token.empty()) {
    return BadRequest("a cluster token (--token) is required to share the cluster identity");
  }
  ASSIGN_OR_RETURN(Secrets secrets, OpenOrCreateSecrets(store, token));
  auto serving = LoadOrIssueServingCert(pki_dir, secrets.ca, extra_sans);
  if (!serving.ok()) {
    // The CA came out of an envelope that authenticated: a PEM that does not
    // parse was sealed that way, which is damage rather than a bad request.
    if (serving.status().code() == Code::kBadRequest) return Damaged(serving.status().message());
    return serving.status();
  }
  // The same files LoadOrCreateCredentials keeps (ca.key 0600 included), so
  // this pki_dir stays self-consistent if the server is later started without
  // --token, and local tools find ca.crt and admin.token where they always were.
  RETURN_IF_ERROR(WriteIfChanged(pki_dir + "/ca.key", secrets.ca.key_pem, 0600));
  RETURN_IF_ERROR(WriteIfChanged(pki_dir + "/ca.crt", secrets.ca.cert_pem, 0644));
  RETURN_IF_ERROR(WriteIfChanged(pki_dir + "/admin.token", secrets.admin_token + "\n", 0600));

  Credentials creds;
  creds.ca_cert_pem = std::move(secrets.ca.cert_pem);
  creds.server_cert_pem = std::move(serving->cert_pem);
  creds.server_key_pem = std::move(serving->key_pem);
  creds.admin_token = std::move(secrets.admin_token);
  OPENSSL_cleanse(secrets.ca.key_pem.data(), secrets.ca.key_pem.size());
  return creds;
}

}  // namespace kennel::apiserver
