#include "dns/message.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace kennel::dns {
namespace {

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Skips one resource record at *offset; on an OPT record (type 41) fills
// the EDNS fields of query. False when malformed.
bool SkipRecord(std::span<const uint8_t> packet, size_t* offset, uint16_t* type, uint16_t* klass,
                uint32_t* ttl, size_t* rdata_offset, uint16_t* rdlength) {
  uint8_t name[kMaxNameSize];
  size_t name_size = 0;
  if (!ReadName(packet, offset, name, &name_size)) return false;
  if (packet.size() - *offset < 10) return false;
  const uint8_t* p = packet.data() + *offset;
  *type = Get16(p);
  *klass = Get16(p + 2);
  *ttl = Get32(p + 4);
  *rdlength = Get16(p + 8);
  *offset += 10;
  if (packet.size() - *offset < *rdlength) return false;
  *rdata_offset = *offset;
  *offset += *rdlength;
  // An OPT record must be owned by the root.
  if (*type == kTypeOPT && name_size != 1) return false;
  return true;
}

// EDNS options are (code, length, data) triples that must fill the rdata.
bool ValidOptions(const uint8_t* p, size_t n) {
  while (n > 0) {
    if (n < 4) return false;
    size_t len = Get16(p + 2);
    if (n - 4 < len) return false;
    p += 4 + len;
    n -= 4 + len;
  }
  return true;
}

}  // namespace

size_t Query::MaxResponseSize(Transport transport) const {
  if (transport == Transport::kTcp) return kMaxTcpSize;
  if (!has_edns) return kPlainUdpSize;
  return std::clamp<size_t>(edns_udp_size, kPlainUdpSize, kMaxUdpSize);
}

bool Query::EndsWith(std::string_view lower_suffix, size_t* offset) const {
  if (lower_suffix.size() > name_size) return false;
  size_t at = name_size - lower_suffix.size();
  if (std::memcmp(lower + at, lower_suffix.data(), lower_suffix.size()) != 0) return false;
  for (size_t i = 0; i <= label_count; ++i) {
    if (label_offsets[i] == at) {
      if (offset) *offset = at;
      return true;
    }
  }
  return false;
}

bool ReadName(std::span<const uint8_t> packet, size_t* offset, uint8_t (&out)[kMaxNameSize],
              size_t* out_size) {
  size_t pos = *offset;
  size_t n = 0;
  size_t resume = 0;  // where the packet continues after the first pointer
  bool jumped = false;
  // A pointer must point before the label sequence it ends: each jump then
  // goes strictly backwards, so a name cannot loop.
  size_t sequence_start = pos;
  while (true) {
    if (pos >= packet.size()) return false;
    uint8_t len = packet[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= packet.size()) return false;
      size_t target = size_t{len & 0x3Fu} << 8 | packet[pos + 1];
      if (target >= sequence_start) return false;
      if (!jumped) {
        resume = pos + 2;
        jumped = true;
      }
      pos = sequence_start = target;
      continue;
    }
    if (len & 0xC0) return false;  // 0x40 and 0x80: obsolete and reserved label types
    if (n + 1 + len > kMaxNameSize) return false;
    if (packet.size() - pos - 1 < len) return false;
    out[n] = len;
    std::memcpy(out + n + 1, packet.data() + pos + 1, len);
    n += 1 + len;
    if (len == 0) {
      *out_size = n;
      *offset = jumped ? resume : pos + 1;
      return true;
    }
    pos += 1 + len;
  }
}

void LowerAscii(uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 'A' && p[i] <= 'Z') p[i] = static_cast<uint8_t>(p[i] + ('a' - 'A'));
  }
}

ParseResult ParseQuery(std::span<const uint8_t> packet, Query* q) {
  if (packet.size() < kHeaderSize) return ParseResult::kDrop;
  const uint8_t* p = packet.data();
  q->id = Get16(p);
  q->flags = Get16(p + 2);
  q->opcode = static_cast<uint8_t>(q->flags >> 11 & 0xF);
  q->name_size = 0;
  q->label_count = 0;
  q->has_edns = false;
  q->edns_udp_size = 0;
  q->edns_version = 0;
  if (q->flags & kFlagQr) return ParseResult::kDrop;
  if (q->opcode != 0) return ParseResult::kNotImp;
  uint16_t qdcount = Get16(p + 4), ancount = Get16(p + 6), nscount = Get16(p + 8),
           arcount = Get16(p + 10);
  if (qdcount != 1) return ParseResult::kFormErr;

  size_t offset = kHeaderSize;
  size_t name_size = 0;
  if (!ReadName(packet, &offset, q->name, &name_size)) return ParseResult::kFormErr;
  if (packet.size() - offset < 4) return ParseResult::kFormErr;
  q->qtype = Get16(p + offset);
  q->qclass = Get16(p + offset + 2);
  offset += 4;
  q->name_size = static_cast<uint8_t>(name_size);
  std::memcpy(q->lower, q->name, name_size);
  LowerAscii(q->lower, name_size);
  // Label offsets, the root's last (ReadName guaranteed the structure).
  for (size_t at = 0;; at += 1 + q->name[at]) {
    q->label_offsets[q->label_count] = static_cast<uint8_t>(at);
    if (q->name[at] == 0) break;
    ++q->label_count;
  }

  uint16_t type = 0, klass = 0, rdlength = 0;
  uint32_t ttl = 0;
  size_t rdata = 0;
  for (uint32_t i = 0; i < uint32_t{ancount} + nscount; ++i) {
    if (!SkipRecord(packet, &offset, &type, &klass, &ttl, &rdata, &rdlength)) {
      return ParseResult::kFormErr;
    }
    if (type == kTypeOPT) return ParseResult::kFormErr;  // OPT only in the additional section
  }
  for (uint16_t i = 0; i < arcount; ++i) {
    if (!SkipRecord(packet, &offset, &type, &klass, &ttl, &rdata, &rdlength)) {
      return ParseResult::kFormErr;
    }
    if (type != kTypeOPT) continue;
    if (q->has_edns) return ParseResult::kFormErr;  // at most one OPT (RFC 6891 6.1.1)
    if (!ValidOptions(p + rdata, rdlength)) return ParseResult::kFormErr;
    q->has_edns = true;
    q->edns_udp_size = klass;
    q->edns_version = static_cast<uint8_t>(ttl >> 16 & 0xFF);
  }
  if (q->has_edns && q->edns_version > 0) return ParseResult::kBadVersion;
  return ParseResult::kOk;
}

Writer::Writer(std::span<uint8_t> out, size_t limit)
    : out_(out), limit_(std::min(limit, out.size())) {}

bool Writer::U8(uint8_t v) {
  if (room() < 1) return false;
  out_[size_++] = v;
  return true;
}

bool Writer::U16(uint16_t v) {
  if (room() < 2) return false;
  out_[size_] = static_cast<uint8_t>(v >> 8);
  out_[size_ + 1] = static_cast<uint8_t>(v);
  size_ += 2;
  return true;
}

bool Writer::U32(uint32_t v) {
  if (room() < 4) return false;
  for (int i = 0; i < 4; ++i) out_[size_ + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  size_ += 4;
  return true;
}

bool Writer::Bytes(const void* data, size_t n) {
  if (room() < n) return false;
  if (n) std::memcpy(out_.data() + size_, data, n);
  size_ += n;
  return true;
}

void Writer::PatchU16(size_t at, uint16_t v) {
  if (at + 2 > out_.size()) return;
  out_[at] = static_cast<uint8_t>(v >> 8);
  out_[at + 1] = static_cast<uint8_t>(v);
}

bool WriteResponseStart(const Query& q, uint16_t flags, uint8_t rcode, Writer* w) {
  uint16_t f = static_cast<uint16_t>(kFlagQr | (q.flags & (kFlagRd | kFlagCd)) | flags |
                                     (uint16_t{q.opcode} << 11) | (rcode & 0xF));
  return w->U16(q.id) && w->U16(f) && w->U16(1) && w->U16(0) && w->U16(0) && w->U16(0) &&
         w->Bytes(q.name, q.name_size) && w->U16(q.qtype) && w->U16(q.qclass);
}

void SetCounts(Writer* w, uint16_t an, uint16_t ns, uint16_t ar) {
  w->PatchU16(6, an);
  w->PatchU16(8, ns);
  w->PatchU16(10, ar);
}

bool WriteOpt(uint16_t extended_rcode, Writer* w) {
  return w->U8(0) && w->U16(kTypeOPT) && w->U16(static_cast<uint16_t>(kMaxUdpSize)) &&
         w->U32(uint32_t{static_cast<uint8_t>(extended_rcode >> 4)} << 24) && w->U16(0);
}

size_t WriteError(const Query& q, uint8_t rcode, bool with_question, uint16_t extra_flags,
                  std::span<uint8_t> out) {
  Writer w(out, out.size());
  if (with_question) {
    if (!WriteResponseStart(q, extra_flags, rcode, &w)) return 0;
    if (q.has_edns && WriteOpt(rcode, &w)) SetCounts(&w, 0, 0, 1);
    return w.size();
  }
  uint16_t f = static_cast<uint16_t>(kFlagQr | (q.flags & (kFlagRd | kFlagCd)) | extra_flags |
                                     (uint16_t{q.opcode} << 11) | (rcode & 0xF));
  if (!(w.U16(q.id) && w.U16(f) && w.U32(0) && w.U32(0))) return 0;
  return w.size();
}

StatusOr<std::string> NameToWire(std::string_view dotted, bool lower_case) {
  if (!dotted.empty() && dotted.back() == '.') dotted.remove_suffix(1);
  std::string wire;
  wire.reserve(dotted.size() + 2);
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    if (label.empty()) return BadRequest("empty label in a DNS name");
    if (label.size() > kMaxLabelSize) return BadRequest("DNS label longer than 63 bytes");
    wire += static_cast<char>(label.size());
    wire.append(label);
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    if (dot != std::string_view::npos && dotted.empty()) {
      return BadRequest("empty label in a DNS name");
    }
  }
  wire += '\0';
  if (wire.size() > kMaxNameSize) return BadRequest("DNS name longer than 255 bytes");
  if (lower_case) LowerAscii(reinterpret_cast<uint8_t*>(wire.data()), wire.size());
  return wire;
}

std::string WireToText(std::string_view wire) {
  std::string text;
  size_t i = 0;
  while (i < wire.size()) {
    size_t len = static_cast<uint8_t>(wire[i]);
    if (len == 0) break;
    for (size_t j = i + 1; j <= i + len && j < wire.size(); ++j) {
      unsigned char c = static_cast<unsigned char>(wire[j]);
      if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')') {
        text += '\\';
        text += static_cast<char>(c);
      } else if (c < 33 || c > 126) {
        char buf[5];
        std::snprintf(buf, sizeof(buf), "\\%03u", c);
        text += buf;
      } else {
        text += static_cast<char>(c);
      }
    }
    text += '.';
    i += 1 + len;
  }
  return text.empty() ? "." : text;
}

StatusOr<std::vector<uint8_t>> BuildQuery(std::string_view name, const QueryOptions& options) {
  ASSIGN_OR_RETURN(std::string wire, NameToWire(name));
  std::vector<uint8_t> out(kHeaderSize + wire.size() + 4 + kOptRecordSize);
  Writer w(out, out.size());
  bool edns = options.edns_udp_size >= 0;
  w.U16(options.id);
  w.U16(options.recursion_desired ? kFlagRd : 0);
  w.U16(1);
  w.U16(0);
  w.U16(0);
  w.U16(edns ? 1 : 0);
  w.Bytes(wire.data(), wire.size());
  w.U16(options.qtype);
  w.U16(options.qclass);
  if (edns) {
    w.U8(0);
    w.U16(kTypeOPT);
    w.U16(static_cast<uint16_t>(options.edns_udp_size));
    w.U32(0);
    w.U16(0);
  }
  out.resize(w.size());
  return out;
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case kTypeA:
      return "A";
    case kTypeNS:
      return "NS";
    case kTypeCNAME:
      return "CNAME";
    case kTypeSOA:
      return "SOA";
    case kTypePTR:
      return "PTR";
    case kTypeTXT:
      return "TXT";
    case kTypeAAAA:
      return "AAAA";
    case kTypeSRV:
      return "SRV";
    case kTypeOPT:
      return "OPT";
    case kTypeIXFR:
      return "IXFR";
    case kTypeAXFR:
      return "AXFR";
    case kTypeANY:
      return "ANY";
  }
  std::string s = "TYPE";
  s += std::to_string(type);
  return s;
}

std::string Record::ToString() const {
  std::string s = name;
  s += ' ';
  s += std::to_string(ttl);
  if (klass == kClassIN) {
    s += " IN ";
  } else {
    s += " CLASS";
    s += std::to_string(klass);
    s += ' ';
  }
  s += TypeName(type);
  if (!data.empty()) {
    s += ' ';
    s += data;
  }
  return s;
}

namespace {

// The presentation form of one record's data; false when malformed.
bool RdataText(std::span<const uint8_t> packet, uint16_t type, size_t at, size_t len,
               std::string* out) {
  const uint8_t* p = packet.data() + at;
  size_t end = at + len;
  auto name_at = [&](size_t* pos, std::string* text) {
    uint8_t buf[kMaxNameSize];
    size_t n = 0;
    // The name must end inside the record's data.
    if (!ReadName(packet.first(end), pos, buf, &n)) return false;
    *text += WireToText(std::string_view(reinterpret_cast<const char*>(buf), n));
    return true;
  };
  switch (type) {
    case kTypeA:
    case kTypeAAAA: {
      size_t want = type == kTypeA ? 4 : 16;
      if (len != want) return false;
      char buf[INET6_ADDRSTRLEN];
      if (!inet_ntop(type == kTypeA ? AF_INET : AF_INET6, p, buf, sizeof(buf))) return false;
      *out = buf;
      return true;
    }
    case kTypeNS:
    case kTypeCNAME:
    case kTypePTR: {
      size_t pos = at;
      return name_at(&pos, out) && pos == end;
    }
    case kTypeSOA: {
      size_t pos = at;
      if (!name_at(&pos, out)) return false;
      *out += ' ';
      if (!name_at(&pos, out)) return false;
      if (end - pos != 20) return false;
      for (int i = 0; i < 5; ++i) {
        *out += ' ';
        *out += std::to_string(Get32(packet.data() + pos + 4 * i));
      }
      return true;
    }
    case kTypeSRV: {
      if (len < 7) return false;
      for (int i = 0; i < 3; ++i) {
        *out += std::to_string(Get16(p + 2 * i));
        *out += ' ';
      }
      size_t pos = at + 6;
      return name_at(&pos, out) && pos == end;
    }
    case kTypeTXT: {
      size_t pos = 0;
      while (pos < len) {
        size_t n = p[pos];
        if (len - pos - 1 < n) return false;
        if (!out->empty()) *out += ' ';
        *out += '"';
        for (size_t i = 0; i < n; ++i) {
          char c = static_cast<char>(p[pos + 1 + i]);
          if (c == '"' || c == '\\') *out += '\\';
          *out += c;
        }
        *out += '"';
        pos += 1 + n;
      }
      return true;
    }
    default: {
      *out = "\\# ";
      *out += std::to_string(len);
      static const char kHex[] = "0123456789ABCDEF";
      if (len) *out += ' ';
      for (size_t i = 0; i < len; ++i) {
        *out += kHex[p[i] >> 4];
        *out += kHex[p[i] & 0xF];
      }
      return true;
    }
  }
}

}  // namespace

StatusOr<Message> DecodeMessage(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize) return BadRequest("DNS message shorter than its header");
  Message m;
  const uint8_t* p = packet.data();
  m.id = Get16(p);
  m.flags = Get16(p + 2);
  m.rcode = static_cast<uint8_t>(m.flags & 0xF);
  uint16_t counts[4] = {Get16(p + 4), Get16(p + 6), Get16(p + 8), Get16(p + 10)};
  std::vector<Record>* sections[4] = {&m.question, &m.answer, &m.authority, &m.additional};
  size_t offset = kHeaderSize;
  for (int s = 0; s < 4; ++s) {
    for (uint16_t i = 0; i < counts[s]; ++i) {
      Record r;
      uint8_t name[kMaxNameSize];
      size_t n = 0;
      if (!ReadName(packet, &offset, name, &n)) return BadRequest("bad name in DNS message");
      r.name = WireToText(std::string_view(reinterpret_cast<const char*>(name), n));
      if (packet.size() - offset < 4) return BadRequest("DNS record runs off the message");
      r.type = Get16(p + offset);
      r.klass = Get16(p + offset + 2);
      offset += 4;
      if (s > 0) {
        if (packet.size() - offset < 6) return BadRequest("DNS record runs off the message");
        r.ttl = Get32(p + offset);
        size_t len = Get16(p + offset + 4);
        offset += 6;
        if (packet.size() - offset < len) return BadRequest("DNS record data runs off");
        if (!RdataText(packet, r.type, offset, len, &r.data)) {
          return BadRequest("malformed " + TypeName(r.type) + " record data");
        }
        offset += len;
      }
      sections[s]->push_back(std::move(r));
    }
  }
  return m;
}

}  // namespace kennel::dns
