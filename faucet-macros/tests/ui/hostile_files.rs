// Hostile pipelines through the real macro: each is a located error (on the
// path literal, with the file's line and column), never a crash of rustc.
faucet_runtime::faucet!("./hostile/nest.yaml");
faucet_runtime::faucet!("./hostile/chain.yaml");
faucet_runtime::faucet!("./hostile/bomb.yaml");
faucet_runtime::faucet!("./hostile/latin1.yaml");
faucet_runtime::faucet!("./hostile/2024.yaml");
faucet_runtime::faucet!("./hostile/gen.yaml");
faucet_runtime::faucet!("./hostile/escape.yaml");

faucet_runtime::faucet! {
    name: deep,
    vars: { x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] },
    pipeline: { source: { type: jsonl, config: { path: "in.jsonl" } }, sink: { type: stdout } }
}

// A generic custom transform compiles: `f<T>` is written `f::<T>`.
fn keep<T>(record: faucet_runtime::Record) -> faucet_runtime::Result<Option<faucet_runtime::Record>> {
    Ok(Some(record))
}

faucet_runtime::faucet! {
    name: generic_fn,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        transforms: [ { type: custom, config: { function: "crate::keep<u8>" } } ],
        sink: { type: stdout },
    }
}

fn main() {
    let _ = generic_fn::pipeline();
}
