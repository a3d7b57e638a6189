// One cluster identity shared by every API server on a store.
//
// Several `kennel server` processes may share one store (`--etcd-endpoints …
// --token T`), and the admin kubeconfig any of them writes must work against
// all of them. So the cluster CA (certificate and private key) and the admin
// token live in the store, sealed under a key derived from the cluster token T
// that every server is given: the first server to start creates them, the
// others open them. Each server still issues its own serving certificate from
// the shared CA, for its own addresses, as LoadOrCreateCredentials does.
//
// Sealing (k3s keeps its bootstrap data in the datastore the same way):
// PBKDF2-HMAC-SHA256 over T with a random 16-byte salt and
// kClusterIdentityIterations rounds gives a master key; HMAC-SHA256 derives
// from it an AES-256-GCM key and a key check value. The check value, kept in
// the envelope, tells a wrong token (kUnauthorized) from a damaged envelope
// (kInternal) — both would otherwise be just a failed GCM tag. The stored value
// is a JSON envelope {version, kdf, iterations, salt, check, nonce, ciphertext,
// tag}, binary fields base64; the plaintext never reaches the store.
//
// On disk: pki_dir ends up as LoadOrCreateCredentials leaves it — ca.crt,
// ca.key (0600), server.{crt,key}, admin.token (0600) — so `kennel kubeconfig`,
// the agents' default CA file and tests reading admin.token work the same
// whichever way the server started.
//
// Threads: blocking (a store write and a deliberately slow key derivation);
// call it at start-up, never from a store callback.
#pragma once

#include <string>
#include <vector>

#include "apiserver/pki.h"
#include "base/status.h"
#include "store/store.h"

namespace kennel::apiserver {

// Where the sealed identity is stored: outside the API's "/registry/" keyspace,
// so no API request can list, watch or overwrite it.
inline constexpr char kClusterIdentityKey[] = "/kennel/cluster-identity";

// PBKDF2 rounds for a newly sealed identity (about 0.15 s on a current core).
// An envelope records its own count, so changing this keeps old ones readable.
inline constexpr int kClusterIdentityIterations = 600'000;

// Opens the cluster identity sealed in store under token, creating and storing
// it first if absent, then loads or issues this server's serving certificate in
// pki_dir for 127.0.0.1, ::1, localhost, the kubernetes Service's names and
// extra_sans. Two servers starting at once converge on one identity: the
// loser of the create-if-absent opens the winner's.
// Errors: kBadRequest for an empty token; kUnauthorized when token is not the
// one the identity was sealed with; kInternal for a damaged envelope or I/O
// errors; the store's errors (e.g. kUnavailable) as they are.
StatusOr<Credentials> LoadOrCreateSharedCredentials(store::Store& store, const std::string& token,
                                                    const std::string& pki_dir,
                                                    const std::vector<std::string>& extra_sans);

}  // namespace kennel::apiserver
