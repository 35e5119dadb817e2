# Helpers shared by scripts/demo.sh and scripts/test.sh; sourced, not run.

# configure DIR [MESON_OPTION...]: sets up the build directory DIR with the
# given options. An existing directory is reconfigured in place (only what
# changed is rebuilt); one that cannot be reconfigured (another meson
# version, a broken state) is wiped and set up afresh.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        if meson setup --reconfigure "$dir" "$@" >"$dir/setup.log" 2>&1; then
            return 0
        fi
        echo "$dir: reconfigure failed, wiping it" >&2
        meson setup --wipe "$dir" "$@"
    else
        rm -rf "$dir"
        meson setup "$dir" "$@"
    fi
}

# quietly CMD...: runs CMD with its output kept back, and shows the output
# only when CMD fails.
quietly() {
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        echo "failed: $*" >&2
        return 1
    fi
}
