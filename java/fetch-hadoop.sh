#!/usr/bin/env bash
# Puts the real Hadoop 3.3.4 client jars (and their two logging dependencies) in a
# cache outside the repository and prints that directory. No Maven repository is
# reachable from CI, so they come from PyPI: the pyspark 3.5.3 source distribution
# carries them in deps/jars/. The download (~300 MB) happens once; later runs only
# check the cached jars against the hashes pinned in hadoop-jars.sha256.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir="${PROXID_HADOOP_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/proxid/hadoop-3.3.4}"
sums="$here/hadoop-jars.sha256"

cached() { [ -d "$dir" ] && (cd "$dir" && sha256sum --quiet --check "$sums") >/dev/null 2>&1; }

if ! cached; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
        echo "fetch-hadoop: needs python3 -m pip to download from PyPI (Debian: apt-get install python3-pip)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch-hadoop: downloading the pyspark==3.5.3 sdist for its Hadoop jars (once)" >&2
    python3 -m pip download --quiet --no-deps --no-binary :all: --dest "$tmp" pyspark==3.5.3 >&2
    members=()
    while read -r _ jar; do members+=("pyspark-3.5.3/deps/jars/$jar"); done <"$sums"
    tar -xzf "$tmp/pyspark-3.5.3.tar.gz" -C "$tmp" --no-same-owner "${members[@]}"
    mv "${members[@]/#/$tmp/}" "$dir"/
    if ! cached; then
        echo "fetch-hadoop: the jars in $dir do not match $sums" >&2
        exit 1
    fi
fi
echo "$dir"
