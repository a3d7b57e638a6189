// The server's credentials, kept in <data-dir>/pki: a CA, a serving
// certificate signed by it (SANs: 127.0.0.1, ::1, localhost, the listen host),
// and the admin bearer token. Created on first start, reused after.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kennel::apiserver {

struct Credentials {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string admin_token;
};

// Loads the credentials under pki_dir, creating whatever is missing. extra_sans
// are host names or IP addresses the serving certificate must also cover. A
// certificate that lacks one of them is re-issued from the same CA.
StatusOr<Credentials> LoadOrCreateCredentials(const std::string& pki_dir,
                                              const std::vector<std::string>& extra_sans);

struct ServingCert {
  std::string cert_pem;
  std::string key_pem;
};

// The building blocks of LoadOrCreateCredentials, shared with the cluster
// identity (cluster_identity.h) that several API servers keep in one store.

// A certificate authority: its certificate and private key, PEM.
struct CertificateAuthority {
  std::string cert_pem;
  std::string key_pem;
};

// A new self-signed CA ("kennel-ca", EC P-256, valid ten years).
// Errors: kInternal if OpenSSL cannot make the key.
StatusOr<CertificateAuthority> NewCertificateAuthority();

// A new random admin bearer token: 32 random bytes, hex-encoded.
std::string NewAdminToken();

// The API server's serving certificate, kept as pki_dir/server.{crt,key}: signed
// by ca for 127.0.0.1, ::1, localhost, the kubernetes Service's names and
// extra_sans (empty and wildcard addresses skipped). Issued anew when missing,
// not covering those names, or not signed by ca's key.
// Errors: kBadRequest if ca does not parse; kInternal on I/O errors.
StatusOr<ServingCert> LoadOrIssueServingCert(const std::string& pki_dir,
                                             const CertificateAuthority& ca,
                                             const std::vector<std::string>& extra_sans);

// A self-signed serving certificate for sans, kept as DIR/serving.{crt,key}
// and made anew when missing or not covering sans: what a node agent serves
// logs and exec with (the API server, its only client, authenticates
// itself with a token and does not verify the agent, as kube-apiserver does
// not verify kubelets by default).
StatusOr<ServingCert> LoadOrCreateSelfSigned(const std::string& dir, const std::string& common_name,
                                             const std::vector<std::string>& sans);

// A bearer token kept in a file: its contents without trailing white space.
StatusOr<std::string> ReadTokenFile(const std::string& path);

// An admin kubeconfig for server_url ("https://127.0.0.1:6443").
std::string AdminKubeconfig(const std::string& server_url, const Credentials& creds);

}  // namespace kennel::apiserver
