faucet_runtime::faucet!("./no_such_pipeline.yaml");

fn main() {}
