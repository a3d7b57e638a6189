// DNS wire format (RFC 1035, EDNS0 from RFC 6891): what the cluster DNS server
// needs to read a query without allocating, and to write answers.
//
// Reading is defensive: every length is checked against the packet, names
// are at most 255 bytes with labels of at most 63, compression pointers must
// point strictly backwards (so they cannot loop), and anything else
// malformed is reported, never read past.
//
// Names travel in wire form ("\3web\7default\3svc\7cluster\5local\0"), so a
// name read from a packet can be looked up without building a dotted string.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kennel::dns {

// Record types.
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNS = 2;
inline constexpr uint16_t kTypeCNAME = 5;
inline constexpr uint16_t kTypeSOA = 6;
inline constexpr uint16_t kTypePTR = 12;
inline constexpr uint16_t kTypeTXT = 16;
inline constexpr uint16_t kTypeAAAA = 28;
inline constexpr uint16_t kTypeSRV = 33;
inline constexpr uint16_t kTypeOPT = 41;
inline constexpr uint16_t kTypeIXFR = 251;
inline constexpr uint16_t kTypeAXFR = 252;
inline constexpr uint16_t kTypeANY = 255;

inline constexpr uint16_t kClassIN = 1;
inline constexpr uint16_t kClassANY = 255;

// Response codes (the header's 4 bits; kBadVers is an extended code carried
// partly in the OPT record).
inline constexpr uint8_t kNoError = 0;
inline constexpr uint8_t kFormErr = 1;
inline constexpr uint8_t kServFail = 2;
inline constexpr uint8_t kNxDomain = 3;
inline constexpr uint8_t kNotImp = 4;
inline constexpr uint8_t kRefused = 5;
inline constexpr uint16_t kBadVers = 16;

// Header flag bits (the 16-bit word after the id).
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kFlagAa = 0x0400;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kFlagRa = 0x0080;
inline constexpr uint16_t kFlagCd = 0x0010;

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameSize = 255;  // wire form, root byte included
inline constexpr size_t kMaxLabelSize = 63;
inline constexpr size_t kMaxLabels = 128;
inline constexpr size_t kPlainUdpSize = 512;  // without EDNS0
inline constexpr size_t kMaxUdpSize = 4096;   // the most we send (and advertise) over UDP
inline constexpr size_t kMaxTcpSize = 65535;
inline constexpr size_t kOptRecordSize = 11;  // root name, type, class, ttl, rdlength 0

enum class Transport { kUdp, kTcp };

// A query's question and what the rest of the packet says about the answer.
struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // as received
  uint8_t opcode = 0;
  // The question name in wire form as asked (its case echoed back) and
  // lower-cased (for lookups); name_size counts the root byte.
  uint8_t name[kMaxNameSize] = {};
  uint8_t lower[kMaxNameSize] = {};
  uint8_t name_size = 0;
  // Offset in name of each label's length byte, the root's included.
  uint8_t label_offsets[kMaxLabels] = {};
  uint8_t label_count = 0;  // labels before the root
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool has_edns = false;
  uint16_t edns_udp_size = 0;  // as asked; at least 512 is used
  uint8_t edns_version = 0;

  std::string_view lower_name() const { return {reinterpret_cast<const char*>(lower), name_size}; }
  bool recursion_desired() const { return flags & kFlagRd; }
  // Largest response allowed on this transport.
  size_t MaxResponseSize(Transport transport) const;
  // True when the (lower-cased) name ends with the wire-form suffix on a
  // label boundary; *offset is where that suffix starts in name.
  bool EndsWith(std::string_view lower_suffix, size_t* offset = nullptr) const;
};

enum class ParseResult {
  kOk,
  kDrop,       // too short for a header, or a response (QR=1): no answer at all
  kFormErr,    // header readable, the rest malformed (id, flags, opcode are set)
  kNotImp,     // opcode other than QUERY (id, flags, opcode are set)
  kBadVersion  // EDNS version above 0: answer BADVERS (the query is fully parsed)
};

// Reads a query. Allocates nothing.
ParseResult ParseQuery(std::span<const uint8_t> packet, Query* query);

// Reads the (possibly compressed) name at *offset into out (wire form,
// uncompressed, case kept) and advances *offset past it. False when the name
// is malformed or runs off the packet.
bool ReadName(std::span<const uint8_t> packet, size_t* offset, uint8_t (&out)[kMaxNameSize],
              size_t* out_size);

// Writes a response into a fixed buffer; every write is bounds-checked and a
// write that does not fit fails (returns false) and leaves the buffer as it
// was at the last Mark().
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out, size_t limit);
  size_t size() const { return size_; }
  size_t limit() const { return limit_; }
  size_t room() const { return limit_ - size_; }
  void set_limit(size_t limit) { limit_ = std::min(limit, out_.size()); }
  bool U8(uint8_t v);
  bool U16(uint16_t v);
  bool U32(uint32_t v);
  bool Bytes(const void* data, size_t n);
  void PatchU16(size_t at, uint16_t v);
  void Truncate(size_t size) { size_ = size; }
  uint8_t* data() { return out_.data(); }

 private:
  std::span<uint8_t> out_;
  size_t limit_;
  size_t size_ = 0;
};

// The header and echoed question of a response to query, with rcode and
// flags (QR, RD and CD are copied). Counts start at zero except QDCOUNT.
// False when out cannot hold it.
bool WriteResponseStart(const Query& query, uint16_t flags, uint8_t rcode, Writer* w);
// Sets a response header's counts.
void SetCounts(Writer* w, uint16_t an, uint16_t ns, uint16_t ar);
// The OPT record of a response to an EDNS query: our UDP size, the extended
// rcode's upper bits, version 0.
bool WriteOpt(uint16_t extended_rcode, Writer* w);

// A header-only error response (FORMERR, NOTIMP, SERVFAIL, REFUSED...) for a
// query whose header was read; echoes the question when with_question (only
// valid once the question was parsed). Returns its size (0 if out is tiny).
size_t WriteError(const Query& query, uint8_t rcode, bool with_question, uint16_t extra_flags,
                  std::span<uint8_t> out);

// --- Names --------------------------------------------------------------

// "web.default.svc.cluster.local" (a trailing dot is allowed) → wire form.
// Keeps case unless lower_case. Refuses empty labels, labels over 63 bytes
// and names over 255; "" and "." are the root.
StatusOr<std::string> NameToWire(std::string_view dotted, bool lower_case = false);
// Wire form → "web.default.svc.cluster.local." (dig's escapes for dots,
// backslashes and unprintable bytes inside labels).
std::string WireToText(std::string_view wire);
void LowerAscii(uint8_t* p, size_t n);

// --- Building queries and reading whole messages (tests, tools, fuzzing) ----

struct QueryOptions {
  uint16_t id = 0;
  uint16_t qtype = kTypeA;
  uint16_t qclass = kClassIN;
  bool recursion_desired = true;
  int edns_udp_size = -1;  // -1: no OPT record
};
StatusOr<std::vector<uint8_t>> BuildQuery(std::string_view name, const QueryOptions& options);

struct Record {
  std::string name;  // "web.default.svc.cluster.local."
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::string data;  // presentation form: "10.0.0.1", "0 100 80 web.default.svc.cluster.local."

  // "web.default.svc.cluster.local. 5 IN A 10.0.0.1", as dig prints it (tabs
  // replaced by single spaces).
  std::string ToString() const;
};

struct Message {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t rcode = 0;             // the header's 4 bits
  std::vector<Record> question;  // ttl and data unused
  std::vector<Record> answer;
  std::vector<Record> authority;
  std::vector<Record> additional;  // OPT included

  bool has_flag(uint16_t flag) const { return flags & flag; }
};

// Parses a whole message, following compression in record data for the types
// above. Errors are kBadRequest with what was wrong.
StatusOr<Message> DecodeMessage(std::span<const uint8_t> packet);

std::string TypeName(uint16_t type);

}  // namespace kennel::dns
