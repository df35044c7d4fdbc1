//! faucet end-to-end test support.
