//! The differential suite (issue 19): faucet-stream configs of our own, in
//! `differential/*.yaml`, each run through faucet (compiled into the
//! `differential` binary by build.rs, one subcommand per case) and through
//! faucet-cli 1.17.0, and everything both left behind compared record by
//! record. `bench/differential.sh` installs the peer and runs it; CI does not.
//!
//! - [`case`]: a config and the setup its `# diff:` comment lines ask for.
//! - [`outputs`]: what one side of a case left (files, tables, stdout, exit
//!   status), each output a list of normalized records.
//! - [`compare`]: where two sides' outputs differ.
//! - [`suite`]: preparing, running and comparing every case, and the table.

pub mod case;
pub mod compare;
pub mod outputs;
pub mod suite;
