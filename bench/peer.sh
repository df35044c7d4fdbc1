# faucet-cli 1.17.0, the peer faucet is compared with: installed once per
# feature set, cached outside the repository. Sourced by bench/run.sh and
# bench/differential.sh; not a script of its own.
#
#   peer_locate NAME FEATURES
#
# sets `peer` to the path of the faucet binary built with FEATURES under
# ${XDG_CACHE_HOME:-~/.cache}/faucet/NAME, installing it on first use, or
# leaves `peer` empty and sets `peer_note` to why. A failed install leaves
# NAME/install.failed (rustc's version and the log's first error line), so
# later runs skip the peer at once until that file is deleted. Every feature
# set builds in one cargo target directory, so a second set reuses the
# dependencies the first compiled.
peer_version=1.17.0

peer_locate() {
  local name=$1 features=$2
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/faucet
  local dir=$cache/$name
  peer= peer_note=
  if [ -x "$dir/bin/faucet" ]; then
    peer=$dir/bin/faucet
  elif [ -f "$dir/install.failed" ]; then
    peer_note="faucet-cli $peer_version unavailable: its install failed before ($(head -n1 "$dir/install.failed")); log in $dir/install.log, delete $dir/install.failed to retry"
  else
    printf '\n==> %s\n' "installing faucet-cli $peer_version ($features) into $dir (first use; a long build)" >&2
    mkdir -p "$dir"
    if cargo install faucet-cli --version "$peer_version" --locked --ignore-rust-version --no-default-features \
        --features "$features" --root "$dir" --target-dir "$cache/bench-peer/target" >"$dir/install.log" 2>&1; then
      peer=$dir/bin/faucet
    else
      echo "$(rustc --version); $(grep -m1 '^error' "$dir/install.log" || echo 'see the log')" >"$dir/install.failed"
      peer_note="faucet-cli $peer_version unavailable: the install failed ($(head -n1 "$dir/install.failed")); log in $dir/install.log"
    fi
  fi
}
