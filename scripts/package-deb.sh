#!/usr/bin/env bash
# Builds target/debian/proxid_<version>_<arch>.deb: everything scripts/install.sh
# installs (staged under /usr), the example /etc/proxid.conf as a conffile, docs and
# maintainer scripts from dist/debian/. Then runs lintian when it is installed
# (PROXID_LINTIAN=0 skips it) and fails on any error or warning it reports.
#
#   bash scripts/package-deb.sh
#
# No maintainer script edits /etc/nsswitch.conf or /etc/pam.d: README.md says what
# an administrator adds there.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
out=$target/debian
stage=$out/stage
version=$(sed -n 's/^#define PROXID_VERSION "\(.*\)"$/\1/p' include/proxid.h)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
deb=$out/proxid_${version}_${arch}.deb

cargo build --release
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
PREFIX=/usr LIBDIR=/usr/lib/$multiarch PROXID_LIB_DIR=$target/release PROXID_REQUIRE_ALL=1 \
    DESTDIR=$stage bash scripts/install.sh

# Debug information stays in the build tree; the package ships stripped objects.
find "$stage" -type f \( -name '*.so*' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
        if file -b "$f" | grep -q '^ELF'; then
            strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
        fi
    done
find "$stage" -type f -name '*.a' -exec strip --strip-debug {} +

# Manual pages are compressed, as Debian policy wants them.
[ ! -d "$stage/usr/share/man" ] || find "$stage/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +

install -D -m 644 dist/proxid.conf "$stage/etc/proxid.conf"
doc=$stage/usr/share/doc/proxid
install -D -m 644 dist/debian/copyright "$doc/copyright"
install -D -m 644 examples/proxid.conf "$doc/examples/proxid.conf"
install -m 644 README.md "$doc/README.md"
gzip -9n "$doc/README.md"
when=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
printf 'proxid (%s) unstable; urgency=medium\n\n  * Built from the proxid source tree.\n\n -- proxid maintainers <maintainers@proxid.invalid>  %s\n' \
    "$version" "$when" | gzip -9n > "$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"
install -D -m 644 dist/debian/lintian-overrides "$stage/usr/share/lintian/overrides/proxid"

# Maintainer files.
echo /etc/proxid.conf > "$stage/DEBIAN/conffiles"
echo "libproxid 0 proxid (>= $version)" > "$stage/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$stage/DEBIAN/triggers"
install -m 755 dist/debian/postinst dist/debian/postrm "$stage/DEBIAN/"

# Depends from the ELF objects' own needs, as dpkg-shlibdeps computes them (it wants
# a debian/control beside it, so it runs in a scratch directory).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/debian"
printf 'Source: proxid\n\nPackage: proxid\nArchitecture: any\n' > "$scratch/debian/control"
mapfile -d '' objects < <(find "$(realpath "$stage")" -type f \( -name '*.so*' -o -perm -u+x \) \
    ! -path '*/DEBIAN/*' -print0)
elf=()
for f in "${objects[@]}"; do file -b "$f" | grep -q '^ELF' && elf+=("$f"); done
depends=$(cd "$scratch" && dpkg-shlibdeps -O -xproxid "${elf[@]}" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
    LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 644 "$stage/DEBIAN/"{conffiles,shlibs,triggers,md5sums}
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
    -e "s|@DEPENDS@|$depends|" dist/debian/control.in > "$stage/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "package-deb: built $deb"

if [ "${PROXID_LINTIAN:-1}" != 0 ] && command -v lintian >/dev/null; then
    report=$(lintian --fail-on none "$deb" 2>&1 | grep -v "^running with root privileges" || true)
    if grep -qE '^[EW]: ' <<<"$report"; then
        echo "$report" >&2
        echo "package-deb: lintian reports errors or warnings" >&2
        exit 1
    fi
    [ -z "$report" ] || echo "$report"
    echo "package-deb: lintian clean (errors and warnings)"
fi
