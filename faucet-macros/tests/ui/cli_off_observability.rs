// `observability:` needs the `cli` feature: one error, at the block; the
// call of the `main` helper then raises no second one.
faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        sink: { type: jsonl, config: { path: "out.jsonl" } },
    },
    observability: { tracing: { level: info } },
}

fn main() -> std::process::ExitCode {
    orders::main()
}
