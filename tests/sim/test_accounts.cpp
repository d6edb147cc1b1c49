// The money-flow accounts (model.md section 8): the check compares each flow as the payer
// records it with the payee's record, and net lending sums to zero. These tests show that
// the check is live in a running model: a bookkeeping error on either side is caught in
// the month it happens, and names the flow.
#include <catch2/catch.hpp>

#include "sim/errors.hpp"
#include "sim/model.hpp"
#include "sim/scenario_loader.hpp"

using regio::Account;
using regio::Accounts;
using regio::Model;
using regio::RunConfig;

namespace {

Model small_model() {
  static const regio::Scenario s =
      regio::load_scenario("key-region-leiden", {{"period.end", "2027-12"}});
  RunConfig c;
  c.seed = 11;
  c.scale = 0.02;
  c.check_invariants = true;
  return Model(s, c);
}

}  // namespace

TEST_CASE("Accounts::check reports flows whose two records differ and unbalanced net lending",
          "[accounts]") {
  Accounts a;
  a.pay(Account::firms, Account::households, 100.0);
  a.receive(Account::firms, Account::households, 100.0);
  a.pay(Account::households, Account::rest_of_world, 40.0);
  a.receive(Account::households, Account::rest_of_world, 40.0);
  CHECK(a.check(1e-9).empty());
  CHECK(a.net_lending(Account::households) == Approx(60.0));
  CHECK(a.net_lending(Account::firms) == Approx(-100.0));
  CHECK(a.net_lending(Account::rest_of_world) == Approx(40.0));

  a.receive(Account::firms, Account::households, 0.5);  // the payee booked more
  const std::string problems = a.check(1e-9);
  CHECK(problems.find("firms -> households") != std::string::npos);
  CHECK(problems.find("paid 100.00 but received 100.50") != std::string::npos);
}

TEST_CASE("A running model balances its accounts every month and catches a broken record",
          "[accounts][economy]") {
  SECTION("a consistent run: every month checked") {
    Model m = small_model();
    for (int i = 0; i < 6; ++i) REQUIRE_NOTHROW(m.step());
    double total = 0.0;
    for (int k = 0; k < regio::k_account_sectors; ++k)
      total += m.accounts.net_lending(static_cast<Account>(k));
    CHECK(std::abs(total) < 1e-6);
    // Households save: their incomes exceed their spending and taxes.
    CHECK(m.accounts.net_lending(Account::households) > 0.0);
  }
  SECTION("the households' spending plan differs from the firms' order books") {
    Model m = small_model();
    m.step();
    m.purchase_plan.households_regional += 1e5;
    REQUIRE_THROWS_WITH(m.step(), Catch::Contains("households -> firms"));
  }
  SECTION("a supplier's order book lost an order") {
    Model m = small_model();
    m.step();
    for (size_t f = 0; f < m.firms.size(); ++f)
      if (m.firms.alive[f] && m.firms.order_demand[f] > 0.0) {
        m.firms.order_demand[f] *= 0.5;
        break;
      }
    REQUIRE_THROWS_WITH(m.step(), Catch::Contains("firms -> firms"));
  }
  SECTION("an employer's wage bill and its workers' jobs disagree") {
    Model m = small_model();
    m.step();
    for (size_t f = 0; f < m.firms.size(); ++f)
      if (m.firms.alive[f] && m.firms.employees[f][2] > m.firms.outside_staff[f][2]) {
        ++m.firms.employees[f][2];  // a job nobody holds
        break;
      }
    REQUIRE_THROWS_AS(m.step(), regio::InvariantError);
  }
}
