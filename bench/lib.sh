# Shared by bench/build and bench/compare (sourced, not run).
#
# The corpus of N datasets lives in target/bench-corpus-N (shared with bench/media, generated
# once); each benchmark builds in its own copy under $BENCH_DIR whose content/ is hard-linked to
# the corpus, so edits are made by writing a new file and renaming it over the link (the corpus
# itself is never modified).

BENCH_DIR=${BENCH_DIR:-target/bench}
# Another binary (an older commit's, say) is measured by naming it: VITRINE=/path/to/vitrine.
VITRINE=${VITRINE:-target/release/vitrine}

# Installs a Debian package when its command is missing (the scripts must run on a fresh box).
need_apt() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "installing $2 (apt)" >&2
    { apt-get install -y -qq "$2" || { apt-get update -qq && apt-get install -y -qq "$2"; }; } >/dev/null 2>&1 || true
    command -v "$1" >/dev/null 2>&1
}

build_release() {
    [ "$VITRINE" = target/release/vitrine ] || return 0
    echo "building the release binary" >&2
    cargo build --quiet --release --bin vitrine
}

# The corpus of N datasets, generated once. Up to 100 datasets come from the generator
# (examples/corpus.rs, ~3 CPU-seconds an image); beyond that, dataset i is dataset i mod 99 of
# the N=100 corpus (the same kind of image: the rotation has period 3) with its pixels
# cyclically shifted by `vips wrap` (about 5x cheaper, same statistics, distinct bytes) and its
# descriptor renumbered, so every fifth dataset is still private.
corpus() { # N -> prints the corpus folder
    c="target/bench-corpus-$1"
    if [ ! -f "$c/.complete" ]; then
        rm -rf "$c"
        if [ "$1" -le 100 ]; then
            echo "generating the corpus of $1 datasets in $c (once)" >&2
            cargo run --quiet --release --example corpus -- "$c" "$1" >&2
        else
            base=$(corpus 100)
            mkdir -p "$c/content/datasets"
            # Start from the largest complete smaller corpus (the derivation is deterministic
            # per index, so its datasets are the ones this corpus would derive).
            from=100
            for k in 1000 5000; do
                [ "$k" -lt "$1" ] && [ -f "target/bench-corpus-$k/.complete" ] && from=$k
            done
            echo "deriving the corpus of $1 datasets in $c from $base, reusing the first $from (once)" >&2
            cp -al "target/bench-corpus-$from"/content/datasets/* "$c/content/datasets/"
            sed "s/(100 datasets)/($1 datasets)/" "$base/content/site.yaml" >"$c/content/site.yaml"
            seq "$from" $(($1 - 1)) | xargs -P2 -I{} bash -c 'derive_dataset "$@"' _ "$base" "$c" {}
        fi
        touch "$c/.complete"
    fi
    echo "$c"
}

derive_dataset() { # BASE_CORPUS CORPUS I
    local b=$(($3 % 99)) from to img
    from="$1/content/datasets/$(printf ds-%05d "$b")"
    to="$2/content/datasets/$(printf ds-%05d "$3")"
    mkdir -p "$to"
    img=$(sed -n 's/^thumbnail: //p' "$from/dataset.yaml")
    vips wrap "$from/$img" "$to/$img" --x $((37 * $3 % 2048)) --y $((101 * $3 % 2000)) 2>/dev/null
    sed -e "s/^display_name: \"Specimen $b:/display_name: \"Specimen $3:/" -e "s/block $b\./block $3./" \
        -e "s/^visibility: .*/visibility: $([ $(($3 % 5)) = 4 ] && echo private || echo public)/" \
        "$from/dataset.yaml" >"$to/dataset.yaml"
}
export -f derive_dataset

# A fresh site folder for one configuration: content hard-linked from the corpus, its own
# site.yaml with viewer.pyramids set, no cache and no output.
fresh_site() { # CORPUS SITE PYRAMIDS(true|false)
    rm -rf "$2"
    mkdir -p "$2"
    cp -al "$1/content" "$2/content"
    sed "s/pyramids: .*/pyramids: $3/" "$1/content/site.yaml" >"$2/content/site.yaml.new"
    mv "$2/content/site.yaml.new" "$2/content/site.yaml"
}

now_ns() { date +%s%N; }

load_avg() { cut -d' ' -f1 /proc/loadavg; }

# Runs a command, appending "seconds peak_rss_mb" to $TIMES; fails loudly if the command fails.
timed() { # command...
    t0=$(now_ns)
    if ! /usr/bin/time -f %M -o "$BENCH_DIR/.rss" "$@" >"$BENCH_DIR/.log" 2>&1; then
        cat "$BENCH_DIR/.log" >&2
        echo "failed: $*" >&2
        exit 1
    fi
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" -v k="$(tail -n1 "$BENCH_DIR/.rss")" \
        'BEGIN { printf "%.3f %.0f\n", (b - a) / 1e9, k / 1024 }' >>"$TIMES"
}

# Median of the first column and maximum of the second of $TIMES, then empties it.
summary() {
    sort -n "$TIMES" | awk '{ t[NR] = $1; if ($2 > m) m = $2 }
        END { if (NR % 2) med = t[(NR + 1) / 2]; else med = (t[NR / 2] + t[NR / 2 + 1]) / 2;
              printf "%.3f %d %d\n", med, m, NR }'
    : >"$TIMES"
}
