//! The `faucet-gen` binary: parses the arguments and hands them to [`faucet_gen_cli::run`].

use clap::Parser;

fn main() {
    let cli = faucet_gen_cli::Cli::parse();
    let code = faucet_gen_cli::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    std::process::exit(code);
}
