//! The `faucet!` macro (stub).
use proc_macro::TokenStream;

/// Compiles a pipeline (stub).
#[proc_macro]
pub fn faucet(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
