#include "dns/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kennel::dns {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::vector<uint8_t> Query(std::string_view name, QueryOptions options = {}) {
  auto q = BuildQuery(name, options);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? *q : std::vector<uint8_t>();
}

// A header: id 0x1234, the given flags and counts.
std::string Header(uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0) {
  std::string h = "\x12\x34";
  for (uint16_t v : {flags, qd, an, ns, ar}) {
    h += static_cast<char>(v >> 8);
    h += static_cast<char>(v & 0xFF);
  }
  return h;
}

ParseResult Parse(const std::vector<uint8_t>& packet, dns::Query* q) {
  return ParseQuery(packet, q);
}

TEST(DnsParseQuery, ReadsAQueryWithoutEdns) {
  auto packet = Query("Web.Default.SVC.cluster.local.", {.id = 7, .qtype = kTypeSRV});
  dns::Query q;
  ASSERT_EQ(Parse(packet, &q), ParseResult::kOk);
  EXPECT_EQ(q.id, 7);
  EXPECT_TRUE(q.recursion_desired());
  EXPECT_EQ(q.qtype, kTypeSRV);
  EXPECT_EQ(q.qclass, kClassIN);
  EXPECT_FALSE(q.has_edns);
  EXPECT_EQ(q.lower_name(), std::string_view("\3web\7default\3svc\7cluster\5local\0", 31));
  EXPECT_EQ(WireToText(std::string_view(reinterpret_cast<const char*>(q.name), q.name_size)),
            "Web.Default.SVC.cluster.local.");
  EXPECT_EQ(q.label_count, 5);
  EXPECT_EQ(q.label_offsets[0], 0);
  EXPECT_EQ(q.label_offsets[1], 4);
  EXPECT_EQ(q.label_offsets[5], 30);  // the root
  EXPECT_EQ(q.MaxResponseSize(Transport::kUdp), 512u);
  EXPECT_EQ(q.MaxResponseSize(Transport::kTcp), 65535u);
}

TEST(DnsParseQuery, ReadsEdnsAndClampsTheBufferSize) {
  dns::Query q;
  ASSERT_EQ(Parse(Query("a.b", {.edns_udp_size = 1232}), &q), ParseResult::kOk);
  EXPECT_TRUE(q.has_edns);
  EXPECT_EQ(q.edns_udp_size, 1232);
  EXPECT_EQ(q.MaxResponseSize(Transport::kUdp), 1232u);
  ASSERT_EQ(Parse(Query("a.b", {.edns_udp_size = 100}), &q), ParseResult::kOk);
  EXPECT_EQ(q.MaxResponseSize(Transport::kUdp), 512u);
  ASSERT_EQ(Parse(Query("a.b", {.edns_udp_size = 65000}), &q), ParseResult::kOk);
  EXPECT_EQ(q.MaxResponseSize(Transport::kUdp), kMaxUdpSize);
}

TEST(DnsParseQuery, EndsWithMatchesWholeLabelsOnly) {
  dns::Query q;
  ASSERT_EQ(Parse(Query("web.default.svc.Cluster.Local"), &q), ParseResult::kOk);
  size_t at = 0;
  EXPECT_TRUE(q.EndsWith(std::string_view("\7cluster\5local\0", 15), &at));
  EXPECT_EQ(at, 16u);
  EXPECT_TRUE(q.EndsWith(std::string_view("\0", 1)));
  EXPECT_FALSE(q.EndsWith(std::string_view("\4ocal\0", 6)));  // not on a label boundary
  EXPECT_FALSE(q.EndsWith(std::string_view("\7example\0", 9)));
}

TEST(DnsParseQuery, DropsShortPacketsAndResponses) {
  dns::Query q;
  EXPECT_EQ(Parse({}, &q), ParseResult::kDrop);
  EXPECT_EQ(Parse(Bytes("\x12\x34\x01"), &q), ParseResult::kDrop);
  auto response = Query("a.b");
  response[2] |= 0x80;  // QR
  EXPECT_EQ(Parse(response, &q), ParseResult::kDrop);
}

TEST(DnsParseQuery, OtherOpcodesAreNotImplemented) {
  auto packet = Query("a.b", {.id = 9});
  packet[2] |= 5 << 3;  // UPDATE
  dns::Query q;
  EXPECT_EQ(Parse(packet, &q), ParseResult::kNotImp);
  EXPECT_EQ(q.id, 9);
  EXPECT_EQ(q.opcode, 5);
}

TEST(DnsParseQuery, MalformedQuestionsAreFormErr) {
  dns::Query q;
  // QDCOUNT 0 and 2.
  EXPECT_EQ(Parse(Bytes(Header(0x0100, 0)), &q), ParseResult::kFormErr);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(Parse(Bytes(Header(0, 2) + std::string("\1a\0\0\1\0\1\1b\0\0\1\0\1", 14)), &q),
            ParseResult::kFormErr);
  // Name running off the packet, no type/class, label type 0x40, reserved 0x80.
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + "\5ab"), &q), ParseResult::kFormErr);
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\1a\0\0", 4)), &q), ParseResult::kFormErr);
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\x41"
                                                   "a\0\0\1\0\1",
                                                   7)),
                  &q),
            ParseResult::kFormErr);
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\x81"
                                                   "a\0\0\1\0\1",
                                                   7)),
                  &q),
            ParseResult::kFormErr);
  // A pointer to itself, a pointer forward, a pointer off the end.
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\xC0\x0C\0\1\0\1", 6)), &q),
            ParseResult::kFormErr);
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\xC0\x10\0\1\0\1\1a\0", 9)), &q),
            ParseResult::kFormErr);
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + std::string("\xC0", 1)), &q), ParseResult::kFormErr);
}

TEST(DnsParseQuery, NamesLongerThan255BytesAreFormErr) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(1, '\x3F') + std::string(63, 'a');  // 320 bytes
  name += '\0';
  dns::Query q;
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + name + std::string("\0\1\0\1", 4)), &q),
            ParseResult::kFormErr);
  // 4 × 63-byte labels: 256 bytes with the root, one too many.
  name.clear();
  for (int i = 0; i < 4; ++i) name += std::string(1, '\x3F') + std::string(63, 'a');
  name += '\0';
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + name + std::string("\0\1\0\1", 4)), &q),
            ParseResult::kFormErr);
}

TEST(DnsParseQuery, PointerChainsThatLoopAreRefused) {
  // Question "a" + pointer at 14 pointing back at 16 which points to 14.
  std::string body = std::string("\1a\xC0\x10\xC0\x0E", 6);
  dns::Query q;
  EXPECT_EQ(Parse(Bytes(Header(0, 1) + body + std::string("\0\1\0\1", 4)), &q),
            ParseResult::kFormErr);
}

TEST(DnsParseQuery, EdnsRules) {
  dns::Query q;
  std::string question = std::string("\1a\0\0\1\0\1", 7);
  std::string opt = std::string("\0\0\x29\x04\xD0\0\0\0\0\0\0", 11);
  ASSERT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 1) + question + opt), &q), ParseResult::kOk);
  EXPECT_EQ(q.edns_udp_size, 1232);
  // Two OPT records.
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 2) + question + opt + opt), &q), ParseResult::kFormErr);
  // An OPT whose owner is not the root.
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 1) + question + "\1x" + opt), &q),
            ParseResult::kFormErr);
  // Options that overflow the rdata.
  std::string bad = std::string("\0\0\x29\x04\xD0\0\0\0\0\0\x04\0\x0A\0\x08", 15);
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 1) + question + bad), &q), ParseResult::kFormErr);
  // A cookie option is fine.
  std::string cookie = std::string("\0\0\x29\x04\xD0\0\0\0\0\0\x0C\0\x0A\0\x08", 15) + "12345678";
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 1) + question + cookie), &q), ParseResult::kOk);
  // Version 1.
  std::string v1 = std::string("\0\0\x29\x04\xD0\0\x01\0\0\0\0", 11);
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 1) + question + v1), &q), ParseResult::kBadVersion);
  // ARCOUNT larger than what is there.
  EXPECT_EQ(Parse(Bytes(Header(0, 1, 0, 0, 3) + question + opt), &q), ParseResult::kFormErr);
}

TEST(DnsReadName, FollowsBackwardPointers) {
  // "\3foo\0" at 0, then "\3bar" + pointer to 0 at 5.
  std::vector<uint8_t> packet = Bytes(std::string("\3foo\0\3bar\xC0\x00", 11));
  uint8_t out[kMaxNameSize];
  size_t n = 0, offset = 5;
  ASSERT_TRUE(ReadName(packet, &offset, out, &n));
  EXPECT_EQ(offset, 11u);
  EXPECT_EQ(WireToText(std::string_view(reinterpret_cast<const char*>(out), n)), "bar.foo.");
}

TEST(DnsNames, ConvertBothWays) {
  EXPECT_EQ(NameToWire("web.default").value(), std::string("\3web\7default\0", 13));
  EXPECT_EQ(NameToWire("Web.", /*lower_case=*/true).value(), std::string("\3web\0", 5));
  EXPECT_EQ(NameToWire("").value(), std::string("\0", 1));
  EXPECT_EQ(NameToWire(".").value(), std::string("\0", 1));
  EXPECT_FALSE(NameToWire("a..b").ok());
  EXPECT_FALSE(NameToWire("a.b..").ok());
  EXPECT_FALSE(NameToWire(std::string(64, 'a')).ok());
  EXPECT_FALSE(NameToWire(std::string(300, 'a')).ok());
  EXPECT_EQ(WireToText(std::string("\0", 1)), ".");
  EXPECT_EQ(WireToText(std::string("\3a.b\1\x07\0", 7)), "a\\.b.\\007.");
}

TEST(DnsWriteError, EchoesIdAndOpcode) {
  auto packet = Query("a.b", {.id = 0xBEEF});
  packet[2] |= 2 << 3;  // STATUS
  dns::Query q;
  ASSERT_EQ(Parse(packet, &q), ParseResult::kNotImp);
  std::vector<uint8_t> out(512);
  size_t n = WriteError(q, kNotImp, /*with_question=*/false, 0, out);
  ASSERT_EQ(n, kHeaderSize);
  auto m = DecodeMessage(std::span<const uint8_t>(out.data(), n));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, 0xBEEF);
  EXPECT_EQ(m->rcode, kNotImp);
  EXPECT_TRUE(m->has_flag(kFlagQr));
  EXPECT_TRUE(m->has_flag(kFlagRd));
  EXPECT_EQ(m->flags >> 11 & 0xF, 2);
  // An output too small for a header gets nothing.
  EXPECT_EQ(WriteError(q, kNotImp, false, 0, std::span<uint8_t>(out.data(), 5)), 0u);
}

TEST(DnsDecodeMessage, ReadsCompressedRecordData) {
  // A response: question "a.b" IN SRV, one SRV answer whose target points at
  // the question name.
  std::string m = Header(0x8400, 1, 1);
  m += std::string("\1a\1b\0\0\x21\0\1", 9);
  m += std::string("\xC0\x0C\0\x21\0\1\0\0\0\5\0\x08\0\0\0\x64\0\x50\xC0\x0C", 20);
  auto decoded = DecodeMessage(Bytes(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->answer.size(), 1u);
  EXPECT_EQ(decoded->answer[0].ToString(), "a.b. 5 IN SRV 0 100 80 a.b.");
  // The same with an rdlength that cuts the target short.
  m[m.size() - 9] = 7;
  EXPECT_FALSE(DecodeMessage(Bytes(m)).ok());
}

TEST(DnsWriter, RefusesWritesPastTheLimit) {
  std::vector<uint8_t> buf(8);
  Writer w(buf, 6);
  EXPECT_TRUE(w.U32(1));
  EXPECT_FALSE(w.U32(2));
  EXPECT_TRUE(w.U16(3));
  EXPECT_FALSE(w.U8(4));
  EXPECT_EQ(w.size(), 6u);
  w.set_limit(100);  // capped at the buffer
  EXPECT_EQ(w.limit(), 8u);
}

}  // namespace
}  // namespace kennel::dns
