// Strict scenarios: a value the configuration never reads is an error naming file, line, key and
// why, whether it comes from the file or from --set; one test per class of message.
#include "helpers.hpp"

#include <catch2/catch.hpp>

using namespace csei;
using Catch::Matchers::Contains;
using csei::test::scenario_from;

namespace {

const std::string kBase = R"(name = "t"
[time]
steps = 10
[territories]
list = [{ code = "AA" }, { code = "BB" }]
[organisations]
per_territory = 50
[[innovations]]
name = "x"
rule = "bass"
p = 0.1
q = 0.5
pioneers = 3
)";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return csei::test::input_error_of([&] { return scenario_from(text, overrides); });
}

std::string with(const std::string& extra) {
  return kBase + extra;
}

} // namespace

TEST_CASE("the base of these tests is valid", "[scenario][unused]") {
  CHECK_NOTHROW(scenario_from(kBase));
}

TEST_CASE("a rule's parameters on another rule are refused, with the rules that use them",
          "[scenario][unused]") {
  // In the file: line and key.
  const auto cascade =
      csei::test::replaced(kBase, "q = 0.5\n", "q = 0.5\ncascade_probability = 0.2\n");
  CHECK_THAT(error_of(cascade),
             Contains("test.toml:13:23: innovations[0].cascade_probability: not used by rule "
                      "'bass' (used by: cascade)"));
  // On the command line: the --set is named.
  const auto utility = csei::test::replaced(kBase, "p = 0.1\nq = 0.5\n", "");
  const std::string msg =
      error_of(csei::test::replaced(utility, "rule = \"bass\"", "rule = \"utility\""),
               {"innovations[0].q=1.2"});
  CHECK_THAT(msg, Contains("command line (--set innovations[0].q=1.2): innovations[0].q: not used "
                           "by rule 'utility' (used by: bass)"));
  // Bass parameters on a threshold innovation, utility ones on a cascade innovation.
  const auto threshold =
      csei::test::replaced(kBase, "rule = \"bass\"",
                           "rule = \"threshold\"\nthreshold = { kind = \"fixed\", value = 0.3 }");
  CHECK_THAT(
      error_of(threshold),
      Contains("test.toml:12:5: innovations[0].p: not used by rule 'threshold' (used by: bass)"));
  CHECK_THAT(error_of(with(""), {"innovations[0].appeal=1"}),
             Contains("innovations[0].appeal: not used by rule 'bass' (used by: utility)"));
  // cost is also read by abandonment: allowed on a bass innovation when abandonment is on.
  CHECK_THAT(error_of(kBase, {"innovations[0].cost=0.5"}),
             Contains("not used by rule 'bass' (used by: utility; and by abandonment when "
                      "enabled)"));
  CHECK_NOTHROW(scenario_from(with("[abandonment]\nrate = 1\n"), {"innovations[0].cost=0.5"}));
  // Changing the rule on the command line excuses the file's values for the old rule.
  CHECK_NOTHROW(scenario_from(kBase, {"innovations[0].rule=cascade"}));
}

TEST_CASE("pioneer options without pioneers are refused", "[scenario][unused]") {
  CHECK_THAT(
      error_of(kBase, {"innovations[0].pioneers=0", "innovations[0].pioneer_territory=AA"}),
      Contains("innovations[0].pioneer_territory: not used: the innovation has no pioneers"));
}

TEST_CASE("distribution parameters of other kinds are refused", "[scenario][unused]") {
  const std::string msg =
      error_of(with("[organisations.jobs]\nkind = \"normal\"\nmean = 3\nsd = 1\nvalue = 2\n"));
  CHECK_THAT(msg,
             Contains("test.toml:18:9: organisations.jobs.value: not used by distribution kind "
                      "'normal' (used by: fixed)"));
  CHECK_THAT(error_of(with("[organisations.jobs]\nkind = \"uniform\"\nmin = 1\nmax = 3\nsd = 1\n")),
             Contains("organisations.jobs.sd: not used by distribution kind 'uniform' (used by: "
                      "normal, lognormal)"));
  // Changing the kind on the command line excuses the file's parameters of the old kind.
  CHECK_NOTHROW(scenario_from(with("[organisations.jobs]\nkind = \"normal\"\nmean = 3\nsd = 1\n"),
                              {"organisations.jobs.kind=fixed", "organisations.jobs.value=2"}));
}

TEST_CASE("network keys the network kind ignores are refused", "[scenario][unused]") {
  CHECK_THAT(error_of(with("[network]\nkind = \"complete\"\npartners = 4\n")),
             Contains("test.toml:16:12: network.partners: not used by network kind 'complete' "
                      "(used by: partners)"));
  CHECK_THAT(error_of(with("[network]\npartners = 4\nmean_degree = 3\n")),
             Contains("network.mean_degree: not used by network kind 'partners' (used by: "
                      "erdos_renyi)"));
  CHECK_THAT(error_of(with("[network]\npartners = 4\ndecay_km = 300\n")),
             Contains("network.decay_km: not used with remote = 'uniform'"));
  // --set network.kind=complete on a file with partners: the file's partners are excused, a
  // partners given on the command line is not.
  CHECK_NOTHROW(scenario_from(with("[network]\npartners = 4\n"), {"network.kind=complete"}));
  CHECK_THAT(
      error_of(with("[network]\npartners = 4\n"), {"network.kind=complete", "network.partners=3"}),
      Contains("command line (--set network.partners=3): network.partners: not used"));
}

TEST_CASE("organisation keys of other modes and attributes no rule reads are refused",
          "[scenario][unused]") {
  CHECK_THAT(error_of(kBase, {"organisations.split=population"}),
             Contains("organisations.split: not used without 'total'"));
  CHECK_THAT(error_of(with("[organisations.innovativeness]\nkind = \"fixed\"\nvalue = 1\n")),
             Contains("organisations.innovativeness: not used: no innovation uses rule 'utility'"));
}

TEST_CASE("sizes for legal forms no territory has, and a mix no territory uses, are refused",
          "[scenario][unused]") {
  CHECK_THAT(
      error_of(with("[organisations.jobs_by_form]\nsme = { kind = \"fixed\", value = 3 }\n")),
      Contains("organisations.jobs_by_form.sme: not used: no territory has organisations "
               "of legal form 'sme'"));
  CHECK_NOTHROW(
      scenario_from(with("[organisations.jobs_by_form]\nsme = { kind = \"fixed\", value = 3 }\n"),
                    {"organisations.territory_mix=[{territory=\"AA\", legal_forms={sme=1}}]"}));
  CHECK_THAT(
      error_of(kBase, {"organisations.legal_forms={cooperative=1}",
                       "organisations.territory_mix=[{territory=\"AA\", legal_forms={sme=1}}, "
                       "{territory=\"BB\", legal_forms={sme=1}}]"}),
      Contains("organisations.legal_forms: not used: every territory has its own mix"));
}

TEST_CASE("switched-off sections' values are refused", "[scenario][unused]") {
  CHECK_THAT(error_of(with("[awareness]\nenabled = false\nmedia = 0.5\n")),
             Contains("test.toml:16:9: awareness.media: not used: awareness is off"));
  CHECK_THAT(error_of(with("[abandonment]\nenabled = false\nrate = 0.5\n")),
             Contains("abandonment.rate: not used: abandonment is off"));
  // A cluster rule's parameters when the rule is off.
  const std::string off = "[cluster_rules.bridging]\nenabled = false\nlinks = 3\n";
  CHECK_THAT(error_of(with(off)),
             Contains("cluster_rules.bridging.links: not used: cluster_rules.bridging is off"));
  // Switching the rule off on the command line is fine; a parameter given there is not.
  const std::string on = "[cluster_rules.bridging]\nlinks = 3\n";
  CHECK_NOTHROW(scenario_from(with(on), {"cluster_rules.bridging.enabled=false"}));
  CHECK_THAT(error_of(with(on),
                      {"cluster_rules.bridging.enabled=false", "cluster_rules.bridging.weight=3"}),
             Contains("command line (--set cluster_rules.bridging.weight=3): "
                      "cluster_rules.bridging.weight: not used"));
}

TEST_CASE("cluster rules that act on nothing, and clusters' values for rules that are off",
          "[scenario][unused]") {
  CHECK_THAT(error_of(with("[cluster_rules.facilitation]\nrate = 2\n")),
             Contains("cluster_rules.facilitation: has no effect: facilitation raises members' "
                      "awareness, and the awareness stage is off"));
  CHECK_THAT(error_of(with("[cluster_rules.knowledge_sharing]\nshare = 0.3\n")),
             Contains("cluster_rules.knowledge_sharing: has no effect"));
  const std::string cluster =
      "[[clusters]]\nname = \"c\"\nterritory = \"AA\"\ncapacity = 20\nmembers = { association "
      "= 5 }\nrules = { weight = 3 }\n";
  const std::string msg = error_of(with(cluster));
  CHECK_THAT(msg, Contains("clusters[0].rules.weight: not used: cluster_rules.peer_weight is off"));
  CHECK_THAT(error_of(with("[cluster_generation]\nsectors = 3\n")),
             Contains("cluster_generation.sectors: not used: cluster_generation.density is 0"));
}

TEST_CASE("event keys their action does not read are refused", "[scenario][unused]") {
  const std::string ev =
      "[awareness]\nmedia = 0.1\nsupport = 0.5\n[[events]]\nstep = 2\naction = \"raise_support\"\n"
      "value = 0.2\nforms = [\"cooperative\"]\n";
  CHECK_THAT(error_of(with(ev)),
             Contains("events[0].forms: not used by action 'raise_support' (used by: "
                      "subsidise_cost, public_procurement, seed_adopters, cut_funding)"));
  CHECK_THAT(
      error_of(with("[[events]]\nstep = 2\naction = \"seed_adopters\"\ncount = 3\nvalue = 1\n")),
      Contains("events[0].value: not used by action 'seed_adopters'"));
}

TEST_CASE("declared clusters cannot ask for more members than their territories hold",
          "[scenario][clusters]") {
  // One cluster asking for more than its territory has (50 organisations).
  const std::string big = "[[clusters]]\nname = \"big\"\nterritory = \"AA\"\nmembers = { "
                          "association = 51 }\n";
  CHECK_THAT(error_of(with(big)),
             Contains("clusters[0] ('big') wants 51 members but its territories have 50"));
  // Drawing on a second territory makes room.
  CHECK_NOTHROW(
      scenario_from(with(csei::test::replaced(big, "members", "territories = [\"BB\"]\nmembers"))));
  // Two clusters of one territory that fit alone but not together.
  const std::string two = "[[clusters]]\nname = \"a\"\nterritory = \"AA\"\nmembers = { association "
                          "= 30 }\n[[clusters]]\nname = \"b\"\nterritory = \"AA\"\nmembers = { "
                          "association = 30 }\n";
  CHECK_THAT(error_of(with(two)), Contains("clusters 'a', 'b' want 60 members together but "
                                           "territory 'AA' has 50 organisations"));
  // A legal form the territories do not have.
  const std::string sme = "[[clusters]]\nname = \"s\"\nterritory = \"AA\"\nmembers = { sme = 3 }\n";
  CHECK_THAT(error_of(with(sme)),
             Contains("clusters[0] ('s') wants 3 sme members but its territories have no sme "
                      "organisations"));
}
