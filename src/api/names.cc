#include "api/names.h"

#include <arpa/inet.h>

#include <initializer_list>

namespace kennel::api {
namespace {

// Hand-written matchers instead of std::regex: these run on every label of
// every object a selector looks at and on every write, and std::regex is slow
// and can throw.

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// [-._a-zA-Z0-9]
bool IsKeyChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedNamePart(std::string_view v) {
  if (v.empty() || !IsAlnum(v.front()) || !IsAlnum(v.back())) return false;
  for (char c : v) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchesDns1123Label(std::string_view v) {
  if (v.empty() || !IsLowerAlnum(v.front()) || !IsLowerAlnum(v.back())) return false;
  for (char c : v) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool MatchesDns1123Subdomain(std::string_view v) {
  while (true) {
    auto dot = v.find('.');
    if (!MatchesDns1123Label(v.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    v.remove_prefix(dot + 1);
  }
}

// [-._a-zA-Z0-9]+
bool MatchesKeyCharset(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

// Kubernetes' RegexError: the message, the examples joined by " or " (each
// followed by ", ", hence the double space), then the pattern.
std::string RegexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  out += " (e.g. ";
  bool first = true;
  for (std::string_view e : examples) {
    if (!first) out += " or ";
    first = false;
    out += "'";
    out += e;
    out += "', ";
  }
  out += "regex used for validation is '";
  out += fmt;
  out += "')";
  return out;
}

// Kubernetes' hasChDirPrefix: keys that would name a directory when used as
// file names in a volume.
void AppendChDirErrors(std::string_view v, std::vector<std::string>& errs) {
  if (v == ".") {
    errs.push_back("must not be '.'");
  } else if (v == "..") {
    errs.push_back("must not be '..'");
  } else if (v.starts_with("..")) {
    errs.push_back("must not start with '..'");
  }
}

bool ParsesAsIp(int family, const std::string& text) {
  unsigned char buf[16];
  return inet_pton(family, text.c_str(), buf) == 1;
}

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123LabelErrMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1035LabelErrMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character";
constexpr std::string_view kConfigMapKeyFmt = "[-._a-zA-Z0-9]+";
constexpr std::string_view kConfigMapKeyErrMsg =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
constexpr std::string_view kEnvVarNameFmt = "[-._a-zA-Z][-._a-zA-Z0-9]*";
constexpr std::string_view kEnvVarNameErrMsg =
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit";
constexpr std::string_view kPercentFmt = "[0-9]+%";
constexpr std::string_view kPercentErrMsg =
    "a valid percent string must be a numeric string followed by an ending '%'";

std::string QualifiedNameRegexError() {
  return RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"});
}

}  // namespace

std::string MaxLenError(std::size_t length) {
  return "must be no more than " + std::to_string(length) + " characters";
}

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::vector<std::string> ValidateQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  std::string_view name = value;
  auto slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      errs.push_back("a qualified name " + QualifiedNameRegexError() +
                     " with an optional DNS subdomain prefix and '/' (e.g. "
                     "'example.com/MyName')");
      return errs;
    }
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const auto& m : ValidateDns1123Subdomain(prefix)) errs.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchesQualifiedNamePart(name)) errs.push_back("name part " + QualifiedNameRegexError());
  return errs;
}

std::vector<std::string> ValidateLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(MaxLenError(kLabelValueMaxLength));
  if (!value.empty() && !MatchesQualifiedNamePart(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> ValidateDns1123Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123LabelMaxLength) errs.push_back(MaxLenError(kDns1123LabelMaxLength));
  if (MatchesDns1123Label(value)) return errs;
  // A valid subdomain that is not a valid label can only be failing on its dots.
  if (MatchesDns1123Subdomain(value)) {
    errs.push_back("must not contain dots");
  } else {
    errs.push_back(RegexError(kDns1123LabelErrMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> ValidateDns1123Subdomain(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1123SubdomainMaxLength) {
    errs.push_back(MaxLenError(kDns1123SubdomainMaxLength));
  }
  if (!MatchesDns1123Subdomain(value)) {
    errs.push_back(RegexError(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> ValidateDns1035Label(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kDns1035LabelMaxLength) errs.push_back(MaxLenError(kDns1035LabelMaxLength));
  bool ok = MatchesDns1123Label(value) && value.front() >= 'a' && value.front() <= 'z';
  if (!ok) {
    errs.push_back(RegexError(kDns1035LabelErrMsg, kDns1035LabelFmt, {"my-name", "abc-123"}));
  }
  return errs;
}

std::vector<std::string> ValidateConfigMapKey(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kConfigMapKeyMaxLength) errs.push_back(MaxLenError(kConfigMapKeyMaxLength));
  if (!MatchesKeyCharset(value)) {
    errs.push_back(
        RegexError(kConfigMapKeyErrMsg, kConfigMapKeyFmt, {"key.name", "KEY_NAME", "key-name"}));
  }
  AppendChDirErrors(value, errs);
  return errs;
}

std::vector<std::string> ValidateEnvVarName(std::string_view value) {
  std::vector<std::string> errs;
  if (!MatchesKeyCharset(value) || IsDigit(value.front())) {
    errs.push_back(RegexError(kEnvVarNameErrMsg, kEnvVarNameFmt,
                              {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
  }
  AppendChDirErrors(value, errs);
  return errs;
}

std::vector<std::string> ValidatePortName(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kPortNameMaxLength) errs.push_back(MaxLenError(kPortNameMaxLength));
  bool charset_ok = !value.empty();
  bool has_letter = false;
  for (char c : value) {
    if (!IsLowerAlnum(c) && c != '-') charset_ok = false;
    if (c >= 'a' && c <= 'z') has_letter = true;
  }
  if (!charset_ok) {
    errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  }
  if (!has_letter) errs.push_back("must contain at least one letter (a-z)");
  if (value.find("--") != std::string_view::npos) {
    errs.push_back("must not contain consecutive hyphens");
  }
  if (!value.empty() && (value.front() == '-' || value.back() == '-')) {
    errs.push_back("must not begin or end with a hyphen");
  }
  return errs;
}

std::vector<std::string> ValidatePortNum(int64_t port) {
  if (port >= 1 && port <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> ValidateIp(std::string_view value) {
  std::string text(value);
  if (ParsesAsIp(AF_INET, text) || ParsesAsIp(AF_INET6, text)) return {};
  return {"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"};
}

std::vector<std::string> ValidateCidr(std::string_view value) {
  std::vector<std::string> bad = {
      "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"};
  auto slash = value.find('/');
  if (slash == std::string_view::npos) return bad;
  std::string ip(value.substr(0, slash));
  std::string_view bits = value.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return bad;
  int n = 0;
  for (char c : bits) {
    if (!IsDigit(c)) return bad;
    n = n * 10 + (c - '0');
  }
  if (ParsesAsIp(AF_INET, ip) && n <= 32) return {};
  if (ParsesAsIp(AF_INET6, ip) && n <= 128) return {};
  return bad;
}

std::vector<std::string> ValidatePercent(std::string_view value) {
  bool ok = value.size() >= 2 && value.back() == '%';
  for (std::size_t i = 0; ok && i + 1 < value.size(); ++i) ok = IsDigit(value[i]);
  if (ok) return {};
  return {RegexError(kPercentErrMsg, kPercentFmt, {"1%", "93%"})};
}

}  // namespace kennel::api
