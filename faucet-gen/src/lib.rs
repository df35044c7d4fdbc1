//! faucet-gen (stub)
