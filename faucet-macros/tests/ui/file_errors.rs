faucet_runtime::faucet!("./file_errors.yaml");

fn main() {
    let _ = from_file::run();
}
