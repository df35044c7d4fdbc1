//! Runs a config test that fails on purpose (`config_tests/failing.test.yaml`),
//! so tests/config_tests.rs can check the report a failing case prints.

faucet_runtime::config_tests!("config_tests/failing.test.yaml");

fn main() {
    failing_config_tests::the_second_order_is_off();
}
