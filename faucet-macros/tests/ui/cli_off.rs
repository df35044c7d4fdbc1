// Without faucet-runtime's `cli` feature, the generated `main` helper is a
// compile error at the call, naming the feature (not "function import `main`
// is private" inside generated code).
faucet_runtime::faucet! {
    name: orders,
    pipeline: {
        source: { type: jsonl, config: { path: "in.jsonl" } },
        sink: { type: jsonl, config: { path: "out.jsonl" } },
    }
}

fn main() -> std::process::ExitCode {
    orders::main()
}
