//! Config tests: a spec file in faucet-stream's `tests:` grammar compiled
//! into `#[test]`s by one line, and what a failing case reports.

use std::process::Command;

use faucet_runtime::{FaucetError, Record};

// One `#[test]` per case of the spec, in module `orders_config_tests`.
faucet_runtime::config_tests!("config_tests/orders.test.yaml");

/// Adds the run's date, as `${now.date}` renders it: the spec's `clock` pins it.
fn stamp_day(mut record: Record) -> Result<Option<Record>, FaucetError> {
    let day = faucet_runtime::clock::current().render(faucet_runtime::clock::Now::Date)?;
    record["day"] = day.into();
    Ok(Some(record))
}

/// A failing case panics with the spec file and the case's line, the path of
/// each difference and the first differing record as a diff.
#[test]
fn a_failing_case_reports_its_place_and_the_first_differing_record() {
    let out = Command::new(env!("CARGO_BIN_EXE_failing-config-test")).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = "\
config test `the second order is off` failed (config_tests/failing.test.yaml:5)
  records[1].amount: expected 12.5, got 12.75
  first differing record, records[1] (- expected, + actual):
      {
        \"order_id\": 2,
    -   \"amount\": 12.5,
    +   \"amount\": 12.75,
        \"status\": \"shipped\"
      }
";
    assert!(stderr.contains(report), "{stderr}");
}
