#include "api/selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kennel::api {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

LabelSelector MustParse(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : LabelSelector::Nothing();
}

bool Sel(std::string_view text, const json& labels) { return MustParse(text).Matches(labels); }

Status ParseError(std::string_view text) { return LabelSelector::Parse(text).status(); }

const json kWeb = {{"app", "web"}, {"tier", "front"}, {"rank", "5"}};

TEST(LabelSelectorParse, EmptyStringMatchesEverything) {
  LabelSelector s = MustParse("");
  EXPECT_TRUE(s.Empty());
  EXPECT_TRUE(s.Matches(kWeb));
  EXPECT_TRUE(s.Matches(nullptr));
  EXPECT_TRUE(MustParse("   ").Empty());
  EXPECT_TRUE(LabelSelector().Empty());
}

TEST(LabelSelectorParse, EqualityOperators) {
  EXPECT_TRUE(Sel("app=web", kWeb));
  EXPECT_TRUE(Sel("app==web", kWeb));
  EXPECT_FALSE(Sel("app=db", kWeb));
  EXPECT_FALSE(Sel("missing=web", kWeb));
  EXPECT_TRUE(Sel("app!=db", kWeb));
  EXPECT_FALSE(Sel("app!=web", kWeb));
  // != is true for objects without the key at all.
  EXPECT_TRUE(Sel("missing!=x", kWeb));
  EXPECT_TRUE(Sel("missing!=x", nullptr));
}

TEST(LabelSelectorParse, SetOperators) {
  EXPECT_TRUE(Sel("tier in (back,front)", kWeb));
  EXPECT_FALSE(Sel("tier in (back)", kWeb));
  EXPECT_FALSE(Sel("missing in (a)", kWeb));
  EXPECT_TRUE(Sel("tier notin (back)", kWeb));
  EXPECT_FALSE(Sel("tier notin (back,front)", kWeb));
  EXPECT_TRUE(Sel("missing notin (a)", kWeb));
  EXPECT_TRUE(Sel("tier in(front)", kWeb));
  EXPECT_TRUE(Sel("tier  in  ( back , front )", kWeb));
}

TEST(LabelSelectorParse, ExistenceOperators) {
  EXPECT_TRUE(Sel("app", kWeb));
  EXPECT_FALSE(Sel("missing", kWeb));
  EXPECT_TRUE(Sel("!missing", kWeb));
  EXPECT_FALSE(Sel("!app", kWeb));
  EXPECT_TRUE(Sel("!app", nullptr));
  EXPECT_TRUE(Sel("! missing", kWeb));
}

TEST(LabelSelectorParse, NumericComparisons) {
  EXPECT_TRUE(Sel("rank>4", kWeb));
  EXPECT_FALSE(Sel("rank>5", kWeb));
  EXPECT_TRUE(Sel("rank<6", kWeb));
  EXPECT_FALSE(Sel("rank<5", kWeb));
  EXPECT_FALSE(Sel("missing>0", kWeb));
  EXPECT_FALSE(Sel("app>0", kWeb));  // non-integer label value never matches
  // The operand must also be a valid label value, so signs are refused.
  EXPECT_EQ(ParseError("rank>+4").code(), Code::kBadRequest);
  EXPECT_EQ(ParseError("rank>-4").code(), Code::kBadRequest);
  EXPECT_TRUE(Sel("rank<0010", kWeb));
}

TEST(LabelSelectorParse, ConjunctionNeedsEveryRequirement) {
  EXPECT_TRUE(Sel("app=web,tier in (front),!canary,rank>1", kWeb));
  EXPECT_FALSE(Sel("app=web,tier=back", kWeb));
}

TEST(LabelSelectorParse, EmptyValuesAreLegal) {
  json labels = {{"blank", ""}};
  EXPECT_TRUE(Sel("blank=", labels));
  EXPECT_TRUE(Sel("blank in ()", labels));
  EXPECT_TRUE(Sel("blank in (a,)", labels));
  EXPECT_TRUE(Sel("blank in (,a)", labels));
  EXPECT_FALSE(Sel("blank!=", labels));
}

TEST(LabelSelectorParse, KeywordsAreOrdinaryWordsAsValues) {
  EXPECT_TRUE(Sel("app=in", {{"app", "in"}}));
  EXPECT_TRUE(Sel("app in (in,notin)", {{"app", "notin"}}));
  EXPECT_TRUE(Sel("!in", kWeb));
}

TEST(LabelSelectorParse, PrefixedKeys) {
  json labels = {{"kubernetes.io/metadata.name", "kube-system"}};
  EXPECT_TRUE(Sel("kubernetes.io/metadata.name=kube-system", labels));
  EXPECT_TRUE(
      Sel("kubernetes.io/cluster-service=true,kubernetes.io/metadata.name",
          {{"kubernetes.io/cluster-service", "true"}, {"kubernetes.io/metadata.name", "x"}}));
}

TEST(LabelSelectorParse, NonStringLabelValuesCountAsAbsent) {
  json labels = {{"n", 5}};
  EXPECT_FALSE(Sel("n", labels));
  EXPECT_TRUE(Sel("!n", labels));
}

TEST(LabelSelectorParse, SyntaxErrorsAreBadRequest) {
  for (const char* bad : {"app=web,", ",app", "app in web", "app in (a", "app in (a b)", "app web",
                          "!app=web", "=web", "app=(x)", "in=x", "app=web tier=x", "(", "app!"}) {
    Status s = ParseError(bad);
    EXPECT_EQ(s.code(), Code::kBadRequest) << bad;
  }
}

TEST(LabelSelectorParse, SyntaxErrorsSayWhatWasFoundAndExpected) {
  EXPECT_THAT(ParseError("app=web,").message(), HasSubstr("expected: identifier after ','"));
  EXPECT_THAT(ParseError("app web").message(),
              HasSubstr("found 'web', expected: in, notin, =, ==, !=, gt, lt"));
  EXPECT_THAT(ParseError("app in web").message(), HasSubstr("found 'web', expected: '('"));
  EXPECT_THAT(ParseError("!app=web").message(),
              HasSubstr("found '=', expected: ',' or 'end of string'"));
}

TEST(LabelSelectorParse, InvalidKeysAndValuesAreBadRequest) {
  Status key = ParseError("-app=web");
  EXPECT_EQ(key.code(), Code::kBadRequest);
  EXPECT_THAT(key.message(), HasSubstr("invalid label key \"-app\""));
  Status value = ParseError("app=-web");
  EXPECT_EQ(value.code(), Code::kBadRequest);
  EXPECT_THAT(value.message(), HasSubstr("invalid label value: \"-web\""));
  EXPECT_EQ(ParseError("app in (ok,-bad)").code(), Code::kBadRequest);
  EXPECT_EQ(ParseError(std::string(64, 'k') + "=v").code(), Code::kBadRequest);
}

TEST(LabelSelectorParse, ComparisonNeedsIntegerOperand) {
  Status s = ParseError("rank>high");
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("the value must be an integer"));
  EXPECT_EQ(ParseError("rank>").code(), Code::kBadRequest);
  EXPECT_EQ(ParseError("rank<99999999999999999999").code(), Code::kBadRequest);
}

TEST(LabelSelectorString, IsCanonicalAndSortedByKey) {
  EXPECT_EQ(MustParse("tier in (b,a,b),app=web").ToString(), "app=web,tier in (a,b)");
  EXPECT_EQ(MustParse("  !x , y ,z!=1,w==2,v notin (c),r>3,q<4").ToString(),
            "q<4,r>3,v notin (c),w==2,!x,y,z!=1");
  EXPECT_EQ(MustParse("").ToString(), "");
  EXPECT_EQ(MustParse("blank in ()").ToString(), "blank in ()");
}

TEST(LabelSelectorString, RoundTrips) {
  for (const char* text : {"app=web,tier in (a,b)", "!x,y", "a notin (,b)", "r>3"}) {
    LabelSelector first = MustParse(text);
    LabelSelector again = MustParse(first.ToString());
    EXPECT_EQ(again.ToString(), first.ToString());
  }
}

TEST(LabelSelectorJson, MatchLabelsAndExpressions) {
  json sel = {{"matchLabels", {{"app", "web"}}},
              {"matchExpressions",
               {{{"key", "tier"}, {"operator", "In"}, {"values", {"front", "back"}}},
                {{"key", "canary"}, {"operator", "DoesNotExist"}}}}};
  auto s = LabelSelector::FromJson(sel);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->Empty());
  EXPECT_TRUE(s->Matches(kWeb));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "mid"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "front"}, {"canary", "1"}}));
  EXPECT_EQ(s->ToString(), "app=web,!canary,tier in (back,front)");
}

TEST(LabelSelectorJson, NotInAndExists) {
  json sel = {{"matchExpressions",
               {{{"key", "tier"}, {"operator", "NotIn"}, {"values", {"back"}}},
                {{"key", "app"}, {"operator", "Exists"}}}}};
  auto s = LabelSelector::FromJson(sel);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches(kWeb));
  EXPECT_FALSE(s->Matches({{"tier", "front"}}));
  EXPECT_EQ(s->ToString(), "app,tier notin (back)");
}

TEST(LabelSelectorJson, EmptyObjectMatchesEverythingNullMatchesNothing) {
  auto everything = LabelSelector::FromJson(json::object());
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->Empty());
  EXPECT_TRUE(everything->Matches(kWeb));
  auto also_everything = LabelSelector::FromJson({{"matchLabels", json::object()}});
  ASSERT_TRUE(also_everything.ok());
  EXPECT_TRUE(also_everything->Empty());

  auto nothing = LabelSelector::FromJson(nullptr);
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->Empty());
  EXPECT_FALSE(nothing->Matches(kWeb));
  EXPECT_FALSE(nothing->Matches(json::object()));
  EXPECT_EQ(nothing->ToString(), "");
}

TEST(LabelSelectorJson, BadOperatorIsInvalid) {
  auto s = LabelSelector::FromJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "Gt"}, {"values", {"1"}}}}}});
  EXPECT_EQ(s.status().code(), Code::kInvalid);
  EXPECT_THAT(s.status().message(), HasSubstr("\"Gt\" is not a valid label selector operator"));
  auto lower = LabelSelector::FromJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "in"}, {"values", {"1"}}}}}});
  EXPECT_EQ(lower.status().code(), Code::kInvalid);
}

TEST(LabelSelectorJson, ValuesMustFitTheOperator) {
  auto in_empty =
      LabelSelector::FromJson({{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}});
  EXPECT_EQ(in_empty.status().code(), Code::kInvalid);
  EXPECT_THAT(in_empty.status().message(), HasSubstr("values set can't be empty"));
  auto exists_with_values = LabelSelector::FromJson(
      {{"matchExpressions", {{{"key", "a"}, {"operator", "Exists"}, {"values", {"x"}}}}}});
  EXPECT_EQ(exists_with_values.status().code(), Code::kInvalid);
}

TEST(LabelSelectorJson, BadKeysValuesAndShapesAreInvalid) {
  EXPECT_EQ(LabelSelector::FromJson({{"matchLabels", {{"-a", "b"}}}}).status().code(),
            Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson({{"matchLabels", {{"a", "b c"}}}}).status().code(),
            Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson({{"matchLabels", {{"a", 1}}}}).status().code(), Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson({{"matchLabels", json::array()}}).status().code(),
            Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson({{"matchExpressions", "x"}}).status().code(), Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson(json::array()).status().code(), Code::kInvalid);
  EXPECT_EQ(LabelSelector::FromJson(
                {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}, {"values", {1}}}}}})
                .status()
                .code(),
            Code::kInvalid);
}

// ---------------------------------------------------------------------------

FieldSelector MustParseField(std::string_view text, std::string_view kind) {
  auto s = FieldSelector::Parse(text, kind);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : FieldSelector();
}

const json kPod = {
    {"metadata", {{"name", "web-0"}, {"namespace", "default"}}},
    {"spec",
     {{"nodeName", "n1"}, {"restartPolicy", "Always"}, {"schedulerName", "default-scheduler"}}},
    {"status", {{"phase", "Running"}, {"podIPs", {{{"ip", "10.0.0.5"}}, {{"ip", "fd00::5"}}}}}}};

TEST(FieldSelector, EmptyMatchesEverything) {
  FieldSelector s = MustParseField("", "Pod");
  EXPECT_TRUE(s.Empty());
  EXPECT_TRUE(s.Matches(kPod));
  EXPECT_FALSE(s.RequiredName().has_value());
  EXPECT_TRUE(MustParseField(",", "Pod").Empty());
}

TEST(FieldSelector, MetadataFieldsForEveryKind) {
  EXPECT_TRUE(MustParseField("metadata.name=web-0", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("metadata.name==web-0", "Pod").Matches(kPod));
  EXPECT_FALSE(MustParseField("metadata.name=web-1", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("metadata.namespace!=kube-system", "StatefulSet").Matches(kPod));
  EXPECT_FALSE(MustParseField("metadata.namespace!=default", "ConfigMap").Matches(kPod));
}

TEST(FieldSelector, PodFields) {
  EXPECT_TRUE(MustParseField("spec.nodeName=n1,status.phase=Running", "Pod").Matches(kPod));
  EXPECT_FALSE(MustParseField("spec.nodeName=n1,status.phase!=Running", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("spec.restartPolicy=Always", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("spec.schedulerName=default-scheduler", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("status.podIP=10.0.0.5", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("status.podIPs=10.0.0.5,status.nominatedNodeName=", "Pod")
                  .Matches(json{{"status", {{"podIPs", {{{"ip", "10.0.0.5"}}}}}}}));
}

TEST(FieldSelector, MissingFieldComparesAsEmpty) {
  json unscheduled = {{"metadata", {{"name", "p"}}}, {"spec", json::object()}};
  EXPECT_TRUE(MustParseField("spec.nodeName=", "Pod").Matches(unscheduled));
  EXPECT_FALSE(MustParseField("spec.nodeName!=", "Pod").Matches(unscheduled));
  EXPECT_FALSE(MustParseField("spec.nodeName=", "Pod").Matches(kPod));
  EXPECT_TRUE(MustParseField("status.podIP=", "Pod").Matches(unscheduled));
}

TEST(FieldSelector, BooleansPrintAsTrueFalseAndDefaultToFalse) {
  json cordoned = {{"spec", {{"unschedulable", true}}}};
  json plain = {{"spec", json::object()}};
  EXPECT_TRUE(MustParseField("spec.unschedulable=true", "Node").Matches(cordoned));
  EXPECT_FALSE(MustParseField("spec.unschedulable=false", "Node").Matches(cordoned));
  EXPECT_TRUE(MustParseField("spec.unschedulable=false", "Node").Matches(plain));
  EXPECT_TRUE(MustParseField("spec.hostNetwork=false", "Pod").Matches(kPod));
}

TEST(FieldSelector, NumbersPrintInDecimal) {
  EXPECT_TRUE(MustParseField("status.replicas=3", "ReplicaSet")
                  .Matches(json{{"status", {{"replicas", 3}}}}));
  EXPECT_TRUE(MustParseField("status.replicas=0", "ReplicaSet").Matches(json::object()));
}

TEST(FieldSelector, EventFields) {
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "default"}}},
             {"involvedObject",
              {{"kind", "StatefulSet"},
               {"namespace", "default"},
               {"name", "web"},
               {"uid", "u-1"},
               {"apiVersion", "apps/v1"}}},
             {"reason", "SuccessfulCreate"},
             {"type", "Normal"},
             {"source", {{"component", "statefulset-controller"}}}};
  EXPECT_TRUE(MustParseField("involvedObject.kind=StatefulSet,involvedObject.namespace=default,"
                             "involvedObject.name=web,involvedObject.uid=u-1",
                             "Event")
                  .Matches(ev));
  EXPECT_TRUE(MustParseField("type=Normal,reason=SuccessfulCreate", "Event").Matches(ev));
  EXPECT_TRUE(MustParseField("source=statefulset-controller", "Event").Matches(ev));
  EXPECT_TRUE(MustParseField("involvedObject.fieldPath=", "Event").Matches(ev));
  json new_style = {{"reportingComponent", "kubelet"}};
  EXPECT_TRUE(
      MustParseField("source=kubelet,reportingComponent=kubelet", "Event").Matches(new_style));
}

TEST(FieldSelector, SecretNamespaceFields) {
  EXPECT_TRUE(MustParseField("type=Opaque", "Secret").Matches(json{{"type", "Opaque"}}));
  EXPECT_TRUE(MustParseField("status.phase=Active", "Namespace")
                  .Matches(json{{"status", {{"phase", "Active"}}}}));
}

TEST(FieldSelector, UnsupportedFieldUsesKubernetesMessage) {
  auto s = FieldSelector::Parse("status.hostIP=1.2.3.4", "Pod");
  EXPECT_EQ(s.status().code(), Code::kBadRequest);
  EXPECT_EQ(s.status().message(), "field label not supported: status.hostIP");
  // Kind-specific fields are not offered for other kinds.
  EXPECT_EQ(FieldSelector::Parse("spec.nodeName=x", "Service").status().message(),
            "field label not supported: spec.nodeName");
  EXPECT_EQ(FieldSelector::Parse("type=Opaque", "ConfigMap").status().code(), Code::kBadRequest);
}

TEST(FieldSelector, MalformedTermsAreBadRequest) {
  auto no_op = FieldSelector::Parse("metadata.name", "Pod");
  EXPECT_EQ(no_op.status().code(), Code::kBadRequest);
  EXPECT_THAT(no_op.status().message(), HasSubstr("can't understand 'metadata.name'"));
  EXPECT_EQ(FieldSelector::Parse("metadata.name=a=b", "Pod").status().code(), Code::kBadRequest);
  EXPECT_EQ(FieldSelector::Parse("metadata.name=a\\x", "Pod").status().code(), Code::kBadRequest);
  EXPECT_EQ(FieldSelector::Parse("metadata.name=a\\", "Pod").status().code(), Code::kBadRequest);
}

TEST(FieldSelector, EscapedValues) {
  FieldSelector s = MustParseField("metadata.name=a\\,b\\=c\\\\d", "Pod");
  ASSERT_EQ(s.terms().size(), 1u);
  EXPECT_EQ(s.terms()[0].value, "a,b=c\\d");
  EXPECT_TRUE(s.Matches(json{{"metadata", {{"name", "a,b=c\\d"}}}}));
  EXPECT_EQ(s.ToString(), "metadata.name=a\\,b\\=c\\\\d");
}

TEST(FieldSelector, RequiredNameComesFromEqualityOnName) {
  EXPECT_EQ(MustParseField("metadata.name=web", "StatefulSet").RequiredName(), "web");
  EXPECT_EQ(MustParseField("metadata.namespace=d,metadata.name==web", "Pod").RequiredName(), "web");
  EXPECT_FALSE(MustParseField("metadata.name!=web", "Pod").RequiredName().has_value());
  EXPECT_FALSE(MustParseField("metadata.namespace=web", "Pod").RequiredName().has_value());
}

TEST(FieldSelector, ToStringListsTermsAsWritten) {
  EXPECT_EQ(MustParseField("metadata.name==a,status.phase!=Running", "Pod").ToString(),
            "metadata.name=a,status.phase!=Running");
}

}  // namespace
}  // namespace kennel::api
