faucet_runtime::faucet!("/etc/pipelines/orders.yaml");

fn main() {}
